"""CSV downloads of the emails list and of engagements, with the web admin's filters
(issue 15, item 10). A session cookie or an API token, like the rest of the API; a bad
filter is a 400 that says which one and why."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TypeVar

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Stream

from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.errors import InvalidInput, NotFound
from sendtrail.i18n import _
from sendtrail.moments import checked_moment
from sendtrail.records.exports import email_csv, engagement_csv
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import record_support_read
from sendtrail.tenancy.users import parse_id
from sendtrail.tenancy.values import Principal
from sendtrail.tracking.core.model import EmailKind, EngagementType, Verdict
from sendtrail.tracking.emails import EmailFilter
from sendtrail.tracking.engagements import EngagementFilter
from sendtrail.web.principal import authenticate_link

__all__ = ["export_emails", "export_engagements"]

E = TypeVar("E", EmailKind, EngagementType, Verdict)


async def _actor(request: Request[Any, Any, State], database: Database,
                 what: str) -> tuple[Principal, uuid.UUID]:
    """Who asks, and the account they act on."""
    settings: Settings = request.app.state.settings
    async with database.session(account_id=None) as session:
        principal = await authenticate_link(request, session, settings)
    account_id = principal.account_id
    if account_id is None:
        raise NotFound(_("Choose an account first."))
    if principal.is_staff:  # support reads are audited in the inspected account
        async with database.session(account_id=account_id) as session:
            await record_support_read(session, principal, what=what)
    return principal, account_id


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("'{name}' must be a date and time such as 2030-01-31T00:00:00Z, "
                             "not {value!r}.").format(name=name, value=value[:40])) from None
    return checked_moment(parsed, f"'{name}'")


def _choice(kind: type[E], value: str, name: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        known = ", ".join(member.name for member in kind)
        raise InvalidInput(_("'{name}' must be one of {known}, not {value!r}.").format(
            name=name, known=known, value=value[:40])) from None


def _id(value: str | None, what: str) -> uuid.UUID | None:
    return parse_id(value, what) if value else None


def _csv(rows: AsyncIterator[str], name: str) -> Stream:
    day = utcnow().date().isoformat()
    return Stream(rows, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}-{day}.csv"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })


@get("/exports/emails.csv")
async def export_emails(
    request: Request[Any, Any, State], *, q: str | None = None, kind: str | None = None,
    since: str | None = None, until: str | None = None, sender: str | None = None,
) -> Stream:
    """The emails list, as the Emails page filters it (search, kind, dates, sender)."""
    database: Database = request.app.state.database
    principal, account_id = await _actor(request, database, "emails export")
    wanted = EmailFilter(
        sender_id=_id(sender, "user"), kind=_choice(EmailKind, kind, "kind") if kind else None,
        since=_moment(since, "since"), until=_moment(until, "until"), search=q,
    )
    rows = email_csv(lambda: database.session(account_id=account_id), principal, account_id,
                     wanted)
    return _csv(await _checked(rows), "emails")


@get("/exports/engagements.csv")
async def export_engagements(
    request: Request[Any, Any, State], *, email: str | None = None,
    contact: str | None = None,
    sender: str | None = None, type: str | None = None, verdicts: str | None = None,
    since: str | None = None, until: str | None = None,
) -> Stream:
    """Opens, clicks and replies; ``verdicts`` is a comma-separated list (HUMAN by default)."""
    database: Database = request.app.state.database
    principal, account_id = await _actor(request, database, "engagements export")
    chosen = tuple(_choice(Verdict, part, "verdicts") for part in (verdicts or "").split(",")
                   if part.strip()) or (Verdict.HUMAN,)
    wanted = EngagementFilter(
        email_id=_id(email, "email"), contact_id=_id(contact, "contact"),
        sender_id=_id(sender, "user"),
        type=_choice(EngagementType, type, "type") if type else None,
        verdicts=chosen, since=_moment(since, "since"), until=_moment(until, "until"),
    )
    rows = engagement_csv(lambda: database.session(account_id=account_id), principal,
                          account_id, wanted)
    return _csv(await _checked(rows), "engagements")


async def _checked(rows: AsyncIterator[str]) -> AsyncIterator[str]:
    """The rows, after their first (the header, written once access was checked): a refusal
    is then an error status, not a download that stops short."""
    header = await anext(rows)

    async def all_rows() -> AsyncIterator[str]:
        yield header
        async for row in rows:
            yield row

    return all_rows()
