"""Accounts: creation, settings (R2, R3, R9, R12, R16, R18), seat usage, tracking policy."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.errors import InvalidInput, NotFound
from sendtrail.i18n import _
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.credentials import new_secret
from sendtrail.tenancy.policy import compute_tracking_policy
from sendtrail.tenancy.store import AccountRow, AccountSettingsRow, SeatPurchaseRow, UserRow
from sendtrail.tenancy.values import PAID_SEATS, AccountSettingsValue, Principal, Seat
from sendtrail.tracking.core import TrackingPolicy
from sendtrail.tracking.core.purposes import EXEMPT_PURPOSES, TrackingPurpose

__all__ = [
    "SETTING_NAMES",
    "SeatUsage",
    "create_account_row",
    "find_account_by_slug_or_id",
    "get_account",
    "get_settings",
    "seat_usage",
    "tracking_policy_for",
    "update_settings",
]

SETTING_NAMES = tuple(f.name for f in dataclasses.fields(AccountSettingsValue))
MAX_SEATS = 100_000
MAX_RETENTION_DAYS = 3650
MAX_WITHDRAWAL_LINK_TEXT = 200


@dataclass(frozen=True)
class SeatUsage:
    seat: Seat
    purchased: int | None
    """``None`` for the free seat, which is unlimited."""
    used: int


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
    return slug or "account"


async def _unique_slug(session: AsyncSession, name: str) -> str:
    base = _slugify(name)
    taken = set(
        (
            await session.exec(
                select(AccountRow.slug).where(col(AccountRow.slug).startswith(base))
            )
        ).all()
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


async def create_account_row(
    session: AsyncSession, *, name: str, seats: Mapping[Seat, int], region: str = "na1"
) -> AccountRow:
    """Add an account with default settings and its seat purchases (caller commits)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(_("An account name must be between 1 and 200 characters."))
    for seat, quantity in seats.items():
        if not seat.is_paid:
            raise InvalidInput(_("Free seats are unlimited; only paid seats are purchased."))
        if not 0 <= quantity <= MAX_SEATS:
            raise InvalidInput(
                _("Seat counts must be between 0 and {most}.").format(most=MAX_SEATS)
            )
    account = AccountRow(
        name=name,
        slug=await _unique_slug(session, name),
        region=region,
        logging_secret=new_secret(12).lower().replace("_", "").replace("-", "")[:16],
    )
    session.add(account)
    await session.flush()
    session.add(AccountSettingsRow(account_id=account.id))
    for seat in PAID_SEATS:
        session.add(
            SeatPurchaseRow(account_id=account.id, seat=seat.value, quantity=seats.get(seat, 0))
        )
    return account


async def get_account(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> AccountRow:
    authorizer().require(actor, account_id, AuthzObject.ACCOUNT, AuthzAction.READ)
    account = await session.get(AccountRow, account_id)
    if account is None:
        raise NotFound(_("No such account."))
    return account


async def _settings_row(session: AsyncSession, account_id: uuid.UUID) -> AccountSettingsRow:
    row = (
        await session.exec(
            select(AccountSettingsRow).where(AccountSettingsRow.account_id == account_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(_("No such account."))
    return row


def _value(row: AccountSettingsRow) -> AccountSettingsValue:
    value = AccountSettingsValue(**{name: getattr(row, name) for name in SETTING_NAMES})
    return dataclasses.replace(  # stored as their strings
        value, tracking_purpose=TrackingPurpose(row.tracking_purpose),
        exempt_purpose=TrackingPurpose(row.exempt_purpose))


def _stored(name: str, value: bool | int | str | None) -> bool | int | str | None:
    if isinstance(value, TrackingPurpose):
        return value.value
    if name == "withdrawal_link_text" and isinstance(value, str):
        return value.strip() or None  # empty: back to the default wording
    return value


async def get_settings(session: AsyncSession, account_id: uuid.UUID) -> AccountSettingsValue:
    return _value(await _settings_row(session, account_id))


async def update_settings(
    session: AsyncSession,
    actor: Principal,
    account_id: uuid.UUID,
    *,
    changes: Mapping[str, bool | int | str | None],
) -> AccountSettingsValue:
    authorizer().require(actor, account_id, AuthzObject.SETTINGS, AuthzAction.WRITE)
    unknown = set(changes) - set(SETTING_NAMES)
    if unknown:
        raise InvalidInput(
            _("Unknown account settings: {names}.").format(names=", ".join(sorted(unknown)))
        )
    days = changes.get("hit_detail_retention_days")
    if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_RETENTION_DAYS):
        raise InvalidInput(_("hitDetailRetentionDays must be between 1 and {most} "
                             "(or null to keep hit details).").format(most=MAX_RETENTION_DAYS))
    exempt = changes.get("exempt_purpose")
    if exempt is not None and exempt not in EXEMPT_PURPOSES:
        raise InvalidInput(_("exemptPurpose must be AGGREGATE, DELIVERABILITY or OFF: a "
                             "contact without consent cannot fall back to individual "
                             "tracking."))
    text = changes.get("withdrawal_link_text")
    if isinstance(text, str) and len(text.strip()) > MAX_WITHDRAWAL_LINK_TEXT:
        raise InvalidInput(_("withdrawalLinkText is at most {most} characters.").format(
            most=MAX_WITHDRAWAL_LINK_TEXT))
    row = await _settings_row(session, account_id)
    before = _value(row)
    for name, value in changes.items():
        setattr(row, name, _stored(name, value))
    after = _value(row)
    if after != before:
        changed = [name for name in SETTING_NAMES if getattr(before, name) != getattr(after, name)]
        audit.record(
            session,
            actor,
            account_id,
            action="account.settings.updated",
            target="account settings",
            before={name: getattr(before, name) for name in changed},
            after={name: getattr(after, name) for name in changed},
        )
    await session.commit()
    return after


async def purchased_seats(session: AsyncSession, account_id: uuid.UUID) -> dict[Seat, int]:
    rows = (
        await session.exec(select(SeatPurchaseRow).where(SeatPurchaseRow.account_id == account_id))
    ).all()
    return {Seat(row.seat): row.quantity for row in rows}


async def seats_in_use(session: AsyncSession, account_id: uuid.UUID) -> dict[Seat, int]:
    """Seats held by active users (a deactivated user frees their seat)."""
    rows = (
        await session.exec(
            select(UserRow.seat, func.count())
            .where(UserRow.account_id == account_id, col(UserRow.active).is_(True))
            .group_by(UserRow.seat)
        )
    ).all()
    return {Seat(seat): count for seat, count in rows}


async def seat_usage(session: AsyncSession, account_id: uuid.UUID) -> list[SeatUsage]:
    purchased = await purchased_seats(session, account_id)
    used = await seats_in_use(session, account_id)
    return [
        SeatUsage(
            seat=seat,
            purchased=purchased.get(seat, 0) if seat.is_paid else None,
            used=used.get(seat, 0),
        )
        for seat in Seat
    ]


async def tracking_policy_for(
    session: AsyncSession,
    account_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    tracking_base_url: str,
) -> TrackingPolicy:
    """The ``TrackingPolicy`` for ``user_id`` sending from ``account_id`` right now (R19)."""
    user = (
        await session.exec(
            select(UserRow).where(UserRow.account_id == account_id, UserRow.id == user_id)
        )
    ).one_or_none()
    if user is None:
        raise NotFound(_("No such user in this account."))
    return compute_tracking_policy(
        await get_settings(session, account_id),
        Seat(user.seat),
        authz=authorizer(),
        tracking_base_url=tracking_base_url,
        user_default_track=user.default_track,
        user_default_log=user.default_log,
    )


async def find_account_by_slug_or_id(session: AsyncSession, key: str) -> AccountRow:
    """Platform-level lookup for the CLI and support staff (accounts are not tenant-owned)."""
    try:
        matches = (AccountRow.slug == key) | (AccountRow.id == uuid.UUID(key))
    except ValueError:
        matches = AccountRow.slug == key
    statement = select(AccountRow).where(matches)
    account = (await session.exec(statement)).one_or_none()
    if account is None:
        raise NotFound(_("No account with id or slug {key!r}.").format(key=key))
    return account
