"""DKIM keys of an account's sending domains, as its admins manage them (R26).

One key per domain: set (generated with ``dkim.new_private_key`` when no PEM is given, else
checked with ``dkim.check_private_key``), listed with the TXT record to publish at
``<selector>._domainkey.<domain>``, removed. The private key is stored encrypted
(``DKIM_KEY_CONTEXT``) and never returned; ``endpoints.route_for`` hands it to the
delivery side.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sendtrail.errors import Conflict, InvalidInput, NotFound
from sendtrail.i18n import _
from sendtrail.secretbox import SecretBox
from sendtrail.sending import dkim
from sendtrail.sending.store import DKIM_KEY_CONTEXT, DkimKeyRow
from sendtrail.tenancy import audit
from sendtrail.tenancy.authz import AuthzAction, AuthzObject, authorizer
from sendtrail.tenancy.values import Principal

__all__ = ["MAX_KEYS", "DkimKey", "list_keys", "remove_key", "set_key"]

OBJECT = AuthzObject.OUTBOUND_MAIL
MAX_KEYS = 50
MAX_PEM = 20_000
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}")
_SELECTOR = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    dns_record: str
    """The TXT record's value (``v=DKIM1; k=rsa; p=...``)."""
    created_at: datetime

    @property
    def dns_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @classmethod
    def of(cls, row: DkimKeyRow) -> DkimKey:
        return cls(row.domain, row.selector, row.public_key_record, row.created_at)


def _domain(value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise InvalidInput(_("Give the sending domain as a DNS name such as example.com "
                             "(an internationalised one in its xn-- form)."))
    return domain


def _selector(value: str) -> str:
    selector = value.strip().lower()
    if len(selector) > 63 or not _SELECTOR.fullmatch(selector):
        raise InvalidInput(_("A DKIM selector is a DNS label such as sendtrail1 (letters, "
                             "digits and hyphens, at most 63 characters)."))
    return selector


async def _key_row(
    session: AsyncSession, account_id: uuid.UUID, domain: str
) -> DkimKeyRow | None:
    return (await session.exec(select(DkimKeyRow).where(
        DkimKeyRow.account_id == account_id, DkimKeyRow.domain == domain,
    ))).one_or_none()


async def list_keys(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID
) -> list[DkimKey]:
    authorizer().require(actor, account_id, OBJECT, AuthzAction.READ)
    rows = await session.exec(select(DkimKeyRow).where(DkimKeyRow.account_id == account_id)
                              .order_by(col(DkimKeyRow.domain)))
    return [DkimKey.of(row) for row in rows.all()]


async def set_key(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *,
    domain: str, selector: str, private_key_pem: str | None, now: datetime, box: SecretBox,
) -> DkimKey:
    """Sign mail from ``domain`` with this key (replacing the domain's key, if any)."""
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    domain, selector = _domain(domain), _selector(selector)
    if private_key_pem is None or not private_key_pem.strip():
        pem = dkim.new_private_key()
    else:
        if len(private_key_pem) > MAX_PEM or not private_key_pem.isascii():
            raise InvalidInput(_("The DKIM private key is not one PEM RSA key (2048 bits is "
                                 "usual): ASCII text from -----BEGIN to -----END."))
        pem = private_key_pem.strip().encode() + b"\n"
        dkim.check_private_key(pem)
    row = await _key_row(session, account_id, domain)
    if row is None:
        count = (await session.exec(select(func.count()).select_from(DkimKeyRow)
                                    .where(DkimKeyRow.account_id == account_id))).one()
        if count >= MAX_KEYS:
            raise Conflict(_("An account may have DKIM keys for at most {limit} domains; "
                             "remove one first.").format(limit=MAX_KEYS))
        row = DkimKeyRow(account_id=account_id, domain=domain, selector=selector,
                         private_key_encrypted="", public_key_record="")
    before = None if not row.public_key_record else {"selector": row.selector,
                                                      "record": row.public_key_record}
    row.selector, row.created_at = selector, now
    row.private_key_encrypted = box.encrypt(pem, context=DKIM_KEY_CONTEXT)
    row.public_key_record = dkim.public_record(pem)
    session.add(row)
    audit.record(session, actor, account_id, action="dkim_key.set", target=f"DKIM key of {domain}",
                 before=before, after={"selector": selector, "record": row.public_key_record,
                                       "generated": private_key_pem is None
                                       or not private_key_pem.strip()})
    await session.commit()
    return DkimKey(domain, selector, row.public_key_record, now)


async def remove_key(
    session: AsyncSession, actor: Principal, account_id: uuid.UUID, *, domain: str
) -> None:
    authorizer().require(actor, account_id, OBJECT, AuthzAction.WRITE)
    name = domain.strip().lower().rstrip(".")
    row = await _key_row(session, account_id, name) if _DOMAIN.fullmatch(name) else None
    if row is None:
        raise NotFound(_("No DKIM key for the domain {domain}.").format(domain=repr(name[:253])))
    audit.record(session, actor, account_id, action="dkim_key.removed",
                 target=f"DKIM key of {row.domain}",
                 before={"selector": row.selector, "record": row.public_key_record})
    await session.delete(row)
    await session.commit()

