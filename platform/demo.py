"""``sendtrail demo``: a demo account with an admin, users on free and paid seats, and a story.

The story is a few days of a small sales team's email, made through the product's own
code paths (nothing is inserted by hand): emails prepared for sending
(``tracking.emails.prepare_email``), the hits people and machines made on the real tokens
those emails carry (``tracking.deriver.derive_hits``, so the real classifier decides and
attribution is the product's), logged emails with an attachment and a reply
(``records.logbook.log_email``) and a contact's legal basis (``records.privacy``). Times are
relative to ``now``, so the story always looks recent. Every contact is at an
``*.example.test`` address: none of it is real. It is made once per database.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from sendtrail.contacts.store import ContactRow
from sendtrail.contacts.values import LegalBasis
from sendtrail.db.engine import Database
from sendtrail.db.types import utcnow
from sendtrail.domains.service import tracking_base_url_for
from sendtrail.records.logbook import LogInput, log_email
from sendtrail.records.mime import Address, ParsedAttachment
from sendtrail.records.outbound import log_prepared
from sendtrail.records.privacy import set_legal_basis
from sendtrail.records.services import RecordsConfig
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import set_password
from sendtrail.tenancy.onboarding import create_account
from sendtrail.tenancy.store import AccountRow, UserRow
from sendtrail.tenancy.tokens import create_api_token
from sendtrail.tenancy.users import add_user_row, login_for_email
from sendtrail.tenancy.values import Principal, Role, Scope, Seat
from sendtrail.tracking.core.message_ids import copy_message_id
from sendtrail.tracking.core.model import DeliveryMode, EmailKind, TokenClaims
from sendtrail.tracking.core.prepare import PreparedEmail, Recipient
from sendtrail.tracking.core.tokens import TokenKeys, verify
from sendtrail.tracking.deriver import derive_hits
from sendtrail.tracking.emails import EmailInput, prepare_email
from sendtrail.tracking.hits import RawHit
from sendtrail.tracking.signals import load_signals
from sendtrail.tracking.store import TrackedEmailRow

__all__ = [
    "DEMO_ADMIN", "DEMO_PASSWORD", "ORDER_FORM", "ORDER_FORM_PDF", "REPLY", "STORY_SUBJECTS",
    "ensure_demo",
]

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin@demo.sendtrail.test"
# A local demo only: the password is printed anyway, and reset to this on every run.
DEMO_PASSWORD = "sendtrail-demo"  # noqa: S105
SAM = "sam@demo.sendtrail.test"
FRAN = "fran@demo.sendtrail.test"
DEMO_USERS = (
    (SAM, "Sam Starter", Seat.SALES_STARTER),
    (FRAN, "Fran Free", Seat.FREE),
)

# --- the people of the story (made up: every address is under .example.test) -------------
PRIYA = Recipient("priya.patel@northwind.example.test", "Priya Patel")
TOM = Recipient("tom.becker@northwind.example.test", "Tom Becker")
CONTOSO = (
    Recipient("jon.ito@contoso.example.test", "Jon Ito"),
    Recipient("maria.silva@contoso.example.test", "Maria Silva"),
    Recipient("dev.rao@contoso.example.test", "Dev Rao"),
)
LENA = Recipient("lena.novak@fabrikam.example.test", "Lena Novak")

PROPOSAL = "Proposal for Northwind: Q1 rollout"
KICKOFF = "Contoso kickoff: agenda for Thursday"
QUESTION = "Quick question about your onboarding"
FOLLOW_UP = "Following up on our call"
ORDER_FORM = "Northwind: order form to sign"
REPLY = f"Re: {PROPOSAL}"
STORY_SUBJECTS = (PROPOSAL, KICKOFF, QUESTION, FOLLOW_UP, ORDER_FORM, REPLY)

PRICING = "https://www.example.com/pricing"
CASE_STUDY = "https://www.example.com/case-studies/logistics"
AGENDA = "https://docs.example.com/contoso-kickoff-agenda"

# --- who and what makes the hits: user agents real clients send, TEST-NET addresses -------
OUTLOOK = ("Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Outlook 16.0.17928; "
           "Pro)")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
          "Gecko) Chrome/131.0.0.0 Safari/537.36")
GMAIL_PROXY = ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
               "(via ggpht.com GoogleImageProxy)")
# Machines, recognised by the shipped signal lists (tracking/signals/*.csv):
APPLE_MPP = "Mozilla/5.0"  # Apple Mail Privacy Protection preloading images...
APPLE_RELAY_IP = "172.224.226.7"  # ...from Apple's privacy relay (networks.csv)
GMAIL_PREFETCH = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0")
SCANNER_IP = "203.0.113.66"  # a link scanner with a browser's user agent: the burst rule

_PIXEL = re.compile(r"""https?://[^"'\s>]+/o/([A-Za-z0-9_-]+)\.gif""")
_LINK = re.compile(r"""https?://[^"'\s>]+/c/([A-Za-z0-9_-]+)""")


async def ensure_demo(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> list[str]:
    """Create the demo account and its story once; always print fresh credentials for it."""
    now = now or utcnow()
    async with database.session(account_id=None) as session:
        account = (
            await session.exec(select(AccountRow).where(AccountRow.slug == DEMO_SLUG))
        ).one_or_none()
        if account is None:
            account, _ = await create_account(
                session,
                name="Demo",
                admin_email=DEMO_ADMIN,
                admin_name="Ada Admin",
                admin_password=DEMO_PASSWORD,
                admin_seat=Seat.SALES_PROFESSIONAL,
                seats={Seat.SALES_STARTER: 2, Seat.SALES_PROFESSIONAL: 2},
                actor="demo",
            )
            async with database.session(account_id=account.id) as tenant:
                for email, name, seat in DEMO_USERS:
                    await add_user_row(
                        tenant, account.id, email=email, name=name, role=Role.USER, seat=seat
                    )
                await tenant.commit()
        else:
            await set_password(session, email=DEMO_ADMIN, password=DEMO_PASSWORD)
        login = await login_for_email(session, DEMO_ADMIN)
        if login is None or login.user_id is None:
            raise RuntimeError("the demo admin's login is missing; remove var/ and retry")
        account_id = account.id
    async with database.session(account_id=account_id) as tenant:
        admin = (await tenant.exec(select(UserRow).where(UserRow.id == login.user_id))).one()
        actor = Principal(login_id=login.id, email=admin.email, account_id=account_id,
                          user_id=admin.id, role=Role.ADMIN)
        _, token = await create_api_token(
            tenant, actor, account_id, name="demo token",
            scopes=frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}), now=now,
        )
        _, relay_token = await create_api_token(
            tenant, actor, account_id, name="demo relay (send only)",
            scopes=frozenset({Scope.SEND}), now=now,
        )
    made = await _ensure_story(database, settings, actor, account_id, now=now)
    relay = settings.sending
    return [
        f"web admin: {settings.http.public_url}/",
        f"login: {DEMO_ADMIN}",
        f"password: {DEMO_PASSWORD}",
        f"token: {token}",
        "relay: " + (
            f"smtp://{relay.submission_host}:{relay.submission_port} (SMTP submission; "
            f"user name {DEMO_ADMIN}, password the relay password below)"
            if relay.submission_port else
            "off (set SENDTRAIL_SUBMISSION_PORT; `make run` serves it on 127.0.0.1:2587)"
        ),
        f"relay password: {relay_token}",
        "demo data: " + ("a few days of sample emails, opens, clicks and replies were added"
                         if made else "the sample emails were added on an earlier run")
        + " (made up: every contact is at an *.example.test address)",
    ]


# --- the story ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copy:
    """The tokens of one prepared message: its pixel and its links in document order."""

    pixel: TokenClaims | None
    links: tuple[TokenClaims, ...]


@dataclass
class _Story:
    database: Database
    settings: Settings
    actor: Principal
    account_id: uuid.UUID
    users: dict[str, uuid.UUID]
    keys: TokenKeys
    records: RecordsConfig
    now: datetime

    async def send(
        self, sender: str, subject: str, html: str, recipients: tuple[Recipient, ...], *,
        mode: DeliveryMode, ago: timedelta,
    ) -> tuple[TrackedEmailRow, list[_Copy]]:
        """Prepare an email as the product does for ``sender`` (``ago`` before now)."""
        at = self.now - ago
        email = EmailInput(kind=EmailKind.SALES, subject=subject, html=html, text=None,
                           recipients=recipients, delivery_mode=mode, track=True,
                           sender_id=self.users[sender])
        async with self.database.session(account_id=self.account_id) as session:
            base_url = await tracking_base_url_for(
                session, self.account_id, email_kind="sales",
                default=self.settings.tracking.base_url, now=at)
            row, prepared = await prepare_email(
                session, self.actor, self.account_id, email, keys=self.keys,
                tracking_base_url=base_url, now=at, commit=False)
            await log_prepared(session, self.actor, self.account_id, row, email, log=None,
                               attachments=(), blobs=self.records.blobs, now=at,
                               limits=self.records.limits)
        return row, self.copies(prepared)

    def copies(self, prepared: PreparedEmail) -> list[_Copy]:
        """The claims of the tokens in each message, read back from its HTML as a mail
        client would fetch them (and verified as the pixel and click endpoints do)."""
        found = []
        for message in prepared.messages:
            html = message.html or ""
            pixel = _PIXEL.search(html)
            found.append(_Copy(
                pixel=verify(pixel.group(1), self.keys) if pixel else None,
                links=tuple(verify(token, self.keys) for token in _LINK.findall(html)),
            ))
        return found

    async def log(self, entry: LogInput, *, at: datetime) -> None:
        async with self.database.session(account_id=self.account_id) as session:
            await log_email(session, self.actor, self.account_id, entry,
                            blobs=self.records.blobs, now=at, limits=self.records.limits)

    async def legal_basis(self, address: str, basis: LegalBasis, *, at: datetime) -> None:
        async with self.database.session(account_id=self.account_id) as session:
            contact = (await session.exec(select(ContactRow).where(
                ContactRow.account_id == self.account_id, ContactRow.address == address
            ))).one()
            await set_legal_basis(session, self.actor, self.account_id,
                                  contact_id=contact.id, basis=basis, now=at)


def _hit(claims: TokenClaims | None, at: datetime, ip: str, agent: str) -> RawHit:
    if claims is None:
        raise RuntimeError("the demo email lost its tracking; see its notTrackedReasons")
    return RawHit(event_id=uuid.uuid4(), claims=claims, method="GET", at=at, ip=ip,
                  user_agent=agent)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def _sent(row: TrackedEmailRow, delay: timedelta) -> datetime:
    return row.sent_at + delay


async def _ensure_story(
    database: Database, settings: Settings, actor: Principal, account_id: uuid.UUID, *,
    now: datetime,
) -> bool:
    """Make the story unless this database has it already; True when it was made now."""
    async with database.session(account_id=account_id) as session:
        told = (await session.exec(select(TrackedEmailRow.id).where(
            TrackedEmailRow.account_id == account_id, TrackedEmailRow.subject == PROPOSAL,
        ))).first()
        if told is not None:
            return False
        users = {row.email: row.id for row in (await session.exec(select(UserRow).where(
            UserRow.account_id == account_id))).all()}
    story = _Story(database, settings, actor, account_id, users,
                   TokenKeys.derive(settings.secrets.keys), RecordsConfig.from_settings(settings),
                   now)

    # 1. Ada (the demo login) sends Northwind a proposal, one copy per recipient, so every
    #    open and click names its reader.
    proposal, (priya, tom) = await story.send(
        DEMO_ADMIN, PROPOSAL,
        "<p>Hi Priya, hi Tom,</p><p>As promised, our proposal for the Q1 rollout. The "
        f'<a href="{PRICING}">pricing page</a> has the tiers we discussed, and this '
        f'<a href="{CASE_STUDY}">logistics case study</a> shows a similar rollout.</p>'
        "<p>Best,<br>Ada</p>",
        (PRIYA, TOM), mode=DeliveryMode.PER_RECIPIENT, ago=days(3) + hours(2))
    # 2. Ada sends Contoso one message for three people: one shared pixel (R15).
    kickoff, (shared,) = await story.send(
        DEMO_ADMIN, KICKOFF,
        "<p>Hello all,</p><p>Looking forward to Thursday. The "
        f'<a href="{AGENDA}">agenda</a> is ready for your comments.</p><p>Ada</p>',
        CONTOSO, mode=DeliveryMode.SINGLE_MESSAGE, ago=days(2) + hours(5))
    # 3. Fran (free seat: opens only, R12) asks Fabrikam a question.
    question, (lena,) = await story.send(
        FRAN, QUESTION,
        "<p>Hi Lena,</p><p>How did the onboarding go for your team last week? Anything we "
        "should set up differently?</p><p>Thanks,<br>Fran</p>",
        (LENA,), mode=DeliveryMode.PER_RECIPIENT, ago=days(1) + hours(3))
    # 4. Sam follows up with Dev; nobody has opened it yet.
    await story.send(
        SAM, FOLLOW_UP,
        "<p>Hi Dev,</p><p>Following up on our call: the "
        f'<a href="{CASE_STUDY}">case study</a> I mentioned.</p><p>Sam</p>',
        (CONTOSO[2],), mode=DeliveryMode.PER_RECIPIENT, ago=hours(5))
    await story.legal_basis(PRIYA.address, LegalBasis.CONTRACT, at=_sent(proposal, hours(1)))

    hits = [
        # Priya reads the proposal in Outlook, twice, and looks at the pricing.
        _hit(priya.pixel, _sent(proposal, hours(2) + minutes(14)), "192.0.2.24", OUTLOOK),
        _hit(priya.pixel, _sent(proposal, days(1) + minutes(3)), "192.0.2.24", OUTLOOK),
        _hit(priya.links[0], _sent(proposal, days(1) + minutes(5)), "192.0.2.24", EDGE),
        # Tom's mailbox is behind a link scanner that fetches every link within seconds
        # of delivery (MACHINE: click burst), and his Apple Mail preloads the pixel through
        # Apple's privacy relay (MACHINE: Mail Privacy Protection)...
        *(_hit(link, _sent(proposal, timedelta(seconds=41 + index)), SCANNER_IP, CHROME)
          for index, link in enumerate(tom.links)),
        _hit(tom.pixel, _sent(proposal, minutes(2)), APPLE_RELAY_IP, APPLE_MPP),
        # ...then Tom really clicks the case study on his phone, images never loaded: the
        # click implies an open (R7).
        _hit(tom.links[1], _sent(proposal, days(2) + hours(1)), "198.51.100.73", IPHONE),
        # Gmail prefetches the Contoso email's images on arrival (MACHINE), then someone of
        # the three opens it and follows the agenda link: "Someone" (R15).
        _hit(shared.pixel, _sent(kickoff, timedelta(seconds=9)), "192.0.2.200",
             GMAIL_PREFETCH),
        _hit(shared.pixel, _sent(kickoff, hours(3) + minutes(40)), "198.51.100.12", OUTLOOK),
        _hit(shared.links[0], _sent(kickoff, hours(3) + minutes(42)), "198.51.100.12", EDGE),
        # Lena opens Fran's question in Gmail (its image proxy fetches on a real open).
        _hit(lena.pixel, _sent(question, hours(4) + minutes(20)), "192.0.2.150",
             GMAIL_PROXY),
        _hit(lena.pixel, _sent(question, hours(20)), "198.51.100.140", CHROME),
    ]
    signals = load_signals()
    for hit in sorted(hits, key=lambda hit: hit.at):  # as they arrive, one batch each
        if hit.at < now:
            async with database.engine.begin() as conn:
                await derive_hits(conn, [hit], signals)

    # 5. Priya answers the proposal (logged: R24 counts it as a reply), and Ada logs the
    #    order form she sent from her own mail client, with its PDF (R23).
    reply_at = _sent(proposal, days(1) + hours(1))
    await story.log(LogInput(
        subject=REPLY, sender=Address(PRIYA.address, PRIYA.name),
        to=(Address(DEMO_ADMIN, "Ada Admin"),), sent_at=reply_at,
        text="Hi Ada,\n\nThanks, the Professional tier looks right for us. Could you send "
             "the order form?\n\nPriya",
        message_id=f"<{uuid.uuid5(proposal.id, 'reply')}@northwind.example.test>",
        in_reply_to=copy_message_id(proposal.message_id, 0),
        references=(copy_message_id(proposal.message_id, 0),),
    ), at=reply_at)
    form_at = _sent(proposal, days(1) + hours(3))
    await story.log(LogInput(
        subject=ORDER_FORM, sender=Address(DEMO_ADMIN, "Ada Admin"),
        to=(Address(PRIYA.address, PRIYA.name),), sent_at=form_at,
        text="Hi Priya,\n\nHere is the order form for the Professional tier.\n\nAda",
        attachments=(ParsedAttachment("northwind-order-form.pdf", "application/pdf",
                                      ORDER_FORM_PDF),),
    ), at=form_at)
    return True


ORDER_FORM_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
    b"% Sendtrail demo data: a made-up order form for Northwind (example.test).\n"
)
