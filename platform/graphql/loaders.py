"""Per-request DataLoaders: what a page's rows point at, fetched once per kind, not per row.

An email page lists up to 100 engagements, each naming its email, recipient and link; an
activity page names up to 100 emails. Resolvers ask a loader for one key; the loader
gathers every key asked for in the same tick and runs one batched service function for
them, and remembers the answer for the rest of the request (so each email's recipient
statistics are worked out once, however many engagements name that email).

A ``Loaders`` set belongs to one request and one account: every batch names that account
in its statement (and the session's tenant scope adds it again), so a loader never
crosses accounts. Loaders that read a root object (emails, users) authorize like the
single-object service functions they replace.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from sendtrail.contacts.service import contacts_by_id
from sendtrail.contacts.store import ContactRow
from sendtrail.records import logbook, outbound
from sendtrail.records.store import AttachmentRow, LoggedEmailRow, LoggedRecipientRow
from sendtrail.tenancy import invitations, users
from sendtrail.tenancy.store import InvitationRow, UserRow
from sendtrail.tenancy.values import Principal
from sendtrail.tracking import emails, engagements
from sendtrail.tracking.engagements import RecipientStats
from sendtrail.tracking.store import EmailRecipientRow, TrackedEmailRow

__all__ = ["Loaders"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
RecipientKey = tuple[uuid.UUID, int]
"""(email id, recipient index)."""
Fetch = Callable[[AsyncSession, list[K]], Awaitable[Mapping[K, V]]]


class Loaders:
    """The DataLoaders of one GraphQL request, for one account."""

    def __init__(
        self,
        db: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        actor: Principal,
        account_id: uuid.UUID,
        *,
        aside: Callable[[], AbstractAsyncContextManager[AsyncSession]] | None = None,
    ) -> None:
        self._db = db
        self._aside = aside or db
        account = account_id

        def authorized_emails(
            session: AsyncSession, ids: list[uuid.UUID]
        ) -> Awaitable[Mapping[uuid.UUID, TrackedEmailRow]]:
            return emails.emails_by_id(session, actor, account, ids)

        def authorized_users(
            session: AsyncSession, ids: list[uuid.UUID]
        ) -> Awaitable[Mapping[uuid.UUID, UserRow]]:
            return users.users_by_id(session, actor, account, ids)

        def per_account(
            fetch: Callable[[AsyncSession, uuid.UUID, list[K]], Awaitable[Mapping[K, V]]],
        ) -> Fetch[K, V]:
            return lambda session, keys: fetch(session, account, keys)

        self.email: DataLoader[uuid.UUID, TrackedEmailRow | None] = self._loader(
            authorized_emails, lambda: None)
        self.user: DataLoader[uuid.UUID, UserRow | None] = self._loader(
            authorized_users, lambda: None)
        self.contact: DataLoader[uuid.UUID, ContactRow | None] = self._loader(
            per_account(contacts_by_id), lambda: None)
        self.recipients: DataLoader[uuid.UUID, list[EmailRecipientRow]] = self._loader(
            per_account(emails.recipients_of_emails), list)
        self.recipient_tallies: DataLoader[uuid.UUID, emails.RecipientTally] = self._loader(
            per_account(emails.recipient_tallies_of), emails.RecipientTally)
        self.recipient: DataLoader[RecipientKey, EmailRecipientRow | None] = self._loader(
            per_account(emails.recipients_by_index), lambda: None)
        # The heaviest read of an email's page runs on a connection of its own when the
        # request only reads (``aside``), beside the page's other statements.
        self.recipient_stats: DataLoader[uuid.UUID, dict[int, RecipientStats]] = self._loader(
            per_account(engagements.recipient_stats_of), dict, aside=True)
        self.links: DataLoader[uuid.UUID, dict[int, str]] = self._loader(
            per_account(emails.links_of_emails), dict)
        self.link_clicks: DataLoader[uuid.UUID, dict[int, engagements.LinkClicks]] = self._loader(
            per_account(engagements.link_clicks_of), dict)
        self.logged_recipients: DataLoader[uuid.UUID, list[LoggedRecipientRow]] = (
            self._loader(per_account(logbook.recipients_of_logged), list))
        self.attachments: DataLoader[uuid.UUID, list[AttachmentRow]] = self._loader(
            per_account(logbook.attachments_of_logged), list)
        self.logged_copy: DataLoader[uuid.UUID, LoggedEmailRow | None] = self._loader(
            per_account(outbound.logged_copies_of), lambda: None)
        self.invitation: DataLoader[uuid.UUID, InvitationRow | None] = self._loader(
            per_account(invitations.latest_of_users), lambda: None)

    def _loader(self, fetch: Fetch[K, V], missing: Callable[[], V], *,
                aside: bool = False) -> DataLoader[K, V]:
        opener = self._aside if aside else self._db

        async def load(keys: list[K]) -> Sequence[V]:
            async with opener() as session:
                found = await fetch(session, keys)
            return [found[key] if key in found else missing() for key in keys]

        return DataLoader(load_fn=load)
