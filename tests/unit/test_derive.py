"""decide: what a batch of raw hits becomes, from the batch's facts alone (no database).

The deriver loads ``BatchFacts`` and writes ``Decisions``; every rule that joins
classification, attribution, inferred opens and contact dates is decided here, so it is
tested here: R7 (inferred opens), R11 (click bursts), R14 (the sender's cookie), R15 to R17
(attribution), R16 (contact dates), R18 (tracking off), erasure, and the tracking purposes
and consent (R28, R29).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sendtrail.tracking.core.derive import (
    INFERRED_OPEN_REASON,
    TRACKING_OFF_REASON,
    BatchFacts,
    EmailFacts,
    RecipientFacts,
    clicked_copies,
    decide,
)
from sendtrail.tracking.core.model import Attribution, EmailKind, HitKind, TokenClaims, Verdict
from sendtrail.tracking.core.purposes import ConsentState, TrackingPurpose, purpose_for
from sendtrail.tracking.core.raw_hit import RawHit
from sendtrail.tracking.signals import load_signals

SIGNALS = load_signals()
ACCOUNT, EMAIL, OTHER_EMAIL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SENDER, CONTACT_0, CONTACT_1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = SENT + timedelta(hours=2)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
HOME = "198.51.100.7"
EMAIL_FACTS = EmailFacts(sender_id=SENDER, kind=EmailKind.SALES, recipient_count=2,
                         link_count=3, tracking_enabled=True, privacy_mode=False,
                         self_open_suppression=True, truncate_ips=False)


def _facts(email: EmailFacts = EMAIL_FACTS, *, opened_0: datetime | None = None,
           basis: bool = True, erased: bool = False, **more: object) -> BatchFacts:
    recipients = {(ACCOUNT, EMAIL, 1): RecipientFacts(CONTACT_1, basis, None)}
    if not erased:
        recipients[(ACCOUNT, EMAIL, 0)] = RecipientFacts(CONTACT_0, basis, opened_0)
    return BatchFacts(emails={(ACCOUNT, EMAIL): email}, recipients=recipients,
                      sender_ips={}, **more)  # type: ignore[arg-type]


def _hit(kind: HitKind = HitKind.OPEN, *, at: datetime = LATER, recipient: int | None = 0,
         link: int | None = None, agent: str = CHROME, ip: str = HOME,
         sender_copy: bool = False, email: uuid.UUID = EMAIL) -> RawHit:
    claims = TokenClaims(kind=kind, account_id=ACCOUNT, email_id=email, recipient=recipient,
                         sender_copy=sender_copy, sent_at=int(SENT.timestamp()),
                         link=link if kind is HitKind.CLICK else None,
                         url="https://example.test/" if kind is HitKind.CLICK else None)
    return RawHit(event_id=uuid.uuid4(), claims=claims, method="GET", at=at, ip=ip,
                  user_agent=agent)


def _click(link: int = 0, **kwargs: object) -> RawHit:
    return _hit(HitKind.CLICK, link=link, **kwargs)  # type: ignore[arg-type]


def test_a_human_open_is_stored_attributed_and_moves_the_contacts_date() -> None:
    hit = _hit()
    decided = decide([hit], _facts(), SIGNALS)
    (open_,) = decided.engagements
    assert (open_.id, open_.type, open_.verdict) == (hit.event_id, HitKind.OPEN, Verdict.HUMAN)
    assert (open_.recipient_idx, open_.contact_id, open_.attribution) == (
        0, CONTACT_0, Attribution.RECIPIENT)
    assert open_.counts_in_reports
    assert open_.ip == HOME
    assert open_.user_agent == CHROME
    assert decided.first_human_opens == {(ACCOUNT, EMAIL, 0): LATER}
    (dates,) = decided.contact_dates
    assert (dates.contact_id, dates.last_sales_email_opened_at, dates.last_clicked_at) == (
        CONTACT_0, LATER, None)


def test_only_a_recipients_first_open_is_written_as_their_first() -> None:
    earlier, later = LATER - timedelta(hours=1), LATER + timedelta(hours=1)
    assert decide([_hit()], _facts(opened_0=earlier), SIGNALS).first_human_opens == {}
    # An open that arrives late but happened before the known first one moves it back.
    assert decide([_hit()], _facts(opened_0=later), SIGNALS).first_human_opens == {
        (ACCOUNT, EMAIL, 0): LATER}


def test_a_first_human_click_implies_an_open_just_before_it_r7() -> None:
    click = _click()
    decided = decide([click], _facts(), SIGNALS)
    inferred, stored_click = sorted(decided.engagements, key=lambda e: e.occurred_at)
    assert stored_click.id == click.event_id
    assert stored_click.type is HitKind.CLICK
    assert inferred.type is HitKind.OPEN
    assert inferred.inferred
    assert inferred.inferred_from == "click"
    assert inferred.reasons[0] == INFERRED_OPEN_REASON
    assert inferred.id == uuid.uuid5(click.event_id, "inferred-open")  # same on a replay
    assert inferred.occurred_at < click.at
    assert decided.first_human_opens == {(ACCOUNT, EMAIL, 0): inferred.occurred_at}
    (dates,) = decided.contact_dates  # a sales email's inferred open counts as opened (R16)
    assert dates.last_sales_email_opened_at == dates.last_clicked_at == click.at


def test_no_open_is_inferred_for_a_recipient_who_already_opened() -> None:
    for facts_opened, earlier in ((LATER - timedelta(hours=1), []), (None, [_hit()])):
        click = _click(at=LATER + timedelta(minutes=5))
        decided = decide([*earlier, click], _facts(opened_0=facts_opened), SIGNALS)
        assert [e.inferred for e in decided.engagements] == [False] * (1 + len(earlier))


def test_a_burst_over_every_link_marks_the_clicks_before_it_and_their_inferred_open() -> None:
    clicks = [_click(link, at=LATER + timedelta(seconds=link)) for link in range(3)]
    decided = decide(clicks, _facts(), SIGNALS)
    assert {e.verdict for e in decided.engagements} == {Verdict.MACHINE}
    assert {e.category for e in decided.engagements} == {"click_burst"}
    assert not any(e.counts_in_reports for e in decided.engagements)
    assert decided.first_human_opens == {}  # the inferred open was the scanner's too
    (burst,) = decided.bursts  # stored clicks of earlier batches are reclassified as well
    assert burst.copy == (ACCOUNT, EMAIL, 0, False)
    assert burst.since == clicks[-1].at - timedelta(seconds=10)


def test_stored_recent_clicks_complete_a_burst_across_batches() -> None:
    copy = (ACCOUNT, EMAIL, 0, False)
    facts = _facts(recent_clicks={copy: [(0, LATER), (1, LATER + timedelta(seconds=1))]},
                   opened_0=LATER)
    (click,) = decide([_click(2, at=LATER + timedelta(seconds=2))], facts, SIGNALS).engagements
    assert (click.verdict, click.category) == (Verdict.MACHINE, "click_burst")


def test_an_erased_recipient_or_a_gone_email_records_nothing() -> None:
    assert decide([_hit()], _facts(erased=True), SIGNALS).engagements == ()
    assert decide([_hit(email=OTHER_EMAIL)], _facts(), SIGNALS).engagements == ()
    # ...while the other recipient of the same email is still recorded.
    assert len(decide([_hit(recipient=1)], _facts(erased=True), SIGNALS).engagements) == 1


def test_privacy_mode_without_consent_or_basis_falls_back_to_the_exempt_purpose_r28() -> None:
    # Before R28 such hits were stored anonymously as 'Someone', with address and user
    # agent: now nothing personal is kept, only what the account's exempt purpose allows.
    facts = _facts(replace(EMAIL_FACTS, privacy_mode=True), basis=False)
    decided = decide([_hit(), _click(at=LATER + timedelta(minutes=1))], facts, SIGNALS)
    assert decided.engagements == ()
    assert decided.contact_dates == ()
    assert decided.first_human_opens == {}
    assert [(c.type, c.verdict, c.link_idx) for c in decided.aggregate_counts] == [
        (HitKind.OPEN, Verdict.HUMAN, None), (HitKind.CLICK, Verdict.HUMAN, 0)]


def test_a_shared_copy_is_someone_r15() -> None:
    (open_,) = decide([_hit(recipient=None)], _facts(), SIGNALS).engagements
    assert (open_.attribution, open_.recipient_idx, open_.counts_in_reports) == (
        Attribution.SOMEONE, None, False)


def test_tracking_turned_off_records_with_a_reason_and_moves_no_contact_r18() -> None:
    decided = decide([_hit()], _facts(replace(EMAIL_FACTS, tracking_enabled=False)), SIGNALS)
    (open_,) = decided.engagements
    assert open_.reasons[-1] == TRACKING_OFF_REASON
    assert decided.contact_dates == ()


def test_the_senders_own_copy_is_self_and_nobodys_open_r9() -> None:
    decided = decide([_hit(recipient=None, sender_copy=True)], _facts(), SIGNALS)
    (open_,) = decided.engagements
    assert open_.verdict is Verdict.SELF
    assert open_.sender_copy
    assert decided.first_human_opens == {}
    assert decided.contact_dates == ()


def test_a_machine_open_counts_nowhere_and_a_truncated_address_keeps_its_network() -> None:
    facts = _facts(replace(EMAIL_FACTS, truncate_ips=True))
    (open_,) = decide([_hit(agent="curl/8.5.0")], facts, SIGNALS).engagements
    assert open_.verdict is Verdict.MACHINE
    assert not open_.counts_in_reports
    assert open_.ip == "198.51.100.0"


def test_contact_dates_take_the_latest_hit_of_the_batch() -> None:
    first, last = LATER, LATER + timedelta(hours=1)
    decided = decide([_hit(at=last), _hit(at=first)], _facts(), SIGNALS)
    (dates,) = decided.contact_dates
    assert dates.last_sales_email_opened_at == last
    assert decided.first_human_opens == {(ACCOUNT, EMAIL, 0): first}


def test_clicked_copies_name_recipients_and_recipientless_copies() -> None:
    hits = [_click(recipient=1), _click(recipient=None, sender_copy=True), _hit(recipient=0)]
    recipients, shared = clicked_copies(hits, {(ACCOUNT, EMAIL): EMAIL_FACTS})
    assert recipients == {(ACCOUNT, EMAIL, 1)}
    assert shared == {(ACCOUNT, EMAIL)}


def test_privacy_mode_clicks_need_the_emails_anonymous_history() -> None:  # R7, R16
    # Which of the recipient's earlier opens were anonymous is only stored without a
    # recipient: the deriver must load the email's recipient-less copy for a click too.
    private = replace(EMAIL_FACTS, privacy_mode=True)
    recipients, shared = clicked_copies([_click(recipient=1)], {(ACCOUNT, EMAIL): private})
    assert recipients == {(ACCOUNT, EMAIL, 1)}
    assert shared == {(ACCOUNT, EMAIL)}


def test_an_anonymous_open_then_click_is_one_open_not_two() -> None:  # R7, R15
    # Issue 15, defect 1: one open and one click of a copy naming no one showed two
    # "Someone opened" rows, one of them inferred, when the click came in a later batch.
    facts = _facts()
    (open_,) = decide([_hit(recipient=None)], facts, SIGNALS).engagements
    assert open_.attribution is Attribution.SOMEONE
    assert open_.recipient_idx is None
    later = replace(facts, opened_copies=frozenset({(ACCOUNT, EMAIL, None, False)}))
    (click,) = decide([_click(recipient=None, at=LATER + timedelta(minutes=5))], later,
                      SIGNALS).engagements
    assert (click.type, click.attribution, click.inferred) == (
        HitKind.CLICK, Attribution.SOMEONE, False)
    # Without an earlier open the click still implies one, anonymous like the click.
    inferred, _ = sorted(decide([_click(recipient=None)], facts, SIGNALS).engagements,
                         key=lambda e: e.occurred_at)
    assert (inferred.inferred, inferred.attribution) == (True, Attribution.SOMEONE)


# -- tracking purposes (R28) and consent (R29) --------------------------------------------

IND, AGG, DLV, OFF = (TrackingPurpose.INDIVIDUAL, TrackingPurpose.AGGREGATE,
              TrackingPurpose.DELIVERABILITY, TrackingPurpose.OFF)
G, W, U = ConsentState.GRANTED, ConsentState.WITHDRAWN, ConsentState.UNKNOWN


@pytest.mark.parametrize(("account", "privacy", "consent", "basis", "expected"), [
    (IND, False, U, False, IND),  # today's behaviour without privacy mode
    (IND, False, G, False, IND),
    (IND, False, W, False, DLV),  # a withdrawal always wins, privacy mode or not (R29)
    (IND, True, U, False, DLV),  # privacy mode: neither consent nor legal basis
    (IND, True, U, True, IND),  # ...a legal basis still allows it (R16)
    (IND, True, G, False, IND),  # ...and so does consent
    (IND, True, W, True, DLV),  # a withdrawal beats a legal basis
    (AGG, False, G, True, AGG),  # the account's own exempt purpose applies to everyone
    (DLV, True, G, True, DLV),
    (OFF, False, G, True, OFF),
])
def test_the_purpose_of_a_hit(account: TrackingPurpose, privacy: bool, consent: ConsentState,
                              basis: bool, expected: TrackingPurpose) -> None:
    choice = purpose_for(account=account, exempt=DLV, privacy_mode=privacy,
                         recipient_known=True, consent=consent, has_legal_basis=basis)
    assert choice.purpose is expected
    if expected is not IND or account is not IND:
        assert choice.reason  # every fallback and exempt purpose says why


def test_a_copy_naming_no_one_stays_individual_it_identifies_nobody() -> None:
    choice = purpose_for(account=IND, exempt=OFF, privacy_mode=True, recipient_known=False,
                         consent=U, has_legal_basis=False)
    assert choice.purpose is IND


def _with(consent: ConsentState, *, basis: bool = False) -> BatchFacts:
    facts = _facts(basis=basis)
    return replace(facts, recipients={
        key: replace(value, consent=consent) for key, value in facts.recipients.items()})


def test_aggregate_keeps_counts_and_nothing_about_who() -> None:
    facts = _facts(replace(EMAIL_FACTS, purpose=AGG))
    decided = decide([_hit(), _click(link=2, recipient=1), _hit(agent="curl/8.5.0")],
                     facts, SIGNALS)
    assert decided.engagements == ()
    assert decided.contact_dates == ()
    assert decided.first_human_opens == {}
    assert decided.last_opens == {}
    assert [(c.type, c.link_idx, c.verdict, c.counts_in_reports)
            for c in decided.aggregate_counts] == [
        (HitKind.OPEN, None, Verdict.HUMAN, True), (HitKind.CLICK, 2, Verdict.HUMAN, True),
        (HitKind.OPEN, None, Verdict.MACHINE, False)]
    # An aggregate count has no field that could hold a person: the type says it.
    assert not {"recipient_idx", "contact_id", "ip", "user_agent"} & set(
        type(decided.aggregate_counts[0]).__slots__)


def test_deliverability_keeps_only_each_contacts_last_open_day() -> None:
    facts = _facts(replace(EMAIL_FACTS, purpose=DLV))
    tomorrow = LATER + timedelta(days=1)
    decided = decide([_hit(at=tomorrow), _hit(), _click(recipient=1),
                      _hit(recipient=1, agent="curl/8.5.0", at=tomorrow)], facts, SIGNALS)
    assert (decided.engagements, decided.aggregate_counts, decided.contact_dates) == (
        (), (), ())
    # AGG machine's fetch is not an open; a person's click implies one (R7).
    assert decided.last_opens == {(ACCOUNT, CONTACT_0): tomorrow.date(),
                                  (ACCOUNT, CONTACT_1): LATER.date()}


def test_off_keeps_nothing() -> None:
    decided = decide([_hit(), _click()], _facts(replace(EMAIL_FACTS, purpose=OFF)), SIGNALS)
    assert (decided.engagements, decided.aggregate_counts, decided.last_opens,
            decided.contact_dates) == ((), (), {}, ())


def test_a_withdrawn_contact_falls_back_for_every_email_already_sent_r29() -> None:
    facts = _with(W, basis=True)
    decided = decide([_hit(), _click(recipient=1)], facts, SIGNALS)
    assert decided.engagements == ()
    assert len(decided.aggregate_counts) == 2  # the default exempt purpose: aggregate
    deliverability = replace(facts, emails={(ACCOUNT, EMAIL): replace(
        EMAIL_FACTS, exempt_purpose=DLV)})
    assert decide([_hit()], deliverability, SIGNALS).last_opens == {
        (ACCOUNT, CONTACT_0): LATER.date()}


def test_consent_lets_privacy_mode_name_the_contact_and_says_so() -> None:
    facts = _with(G)
    facts = replace(facts, emails={(ACCOUNT, EMAIL): replace(EMAIL_FACTS, privacy_mode=True)})
    decided = decide([_hit()], facts, SIGNALS)
    (open_,) = decided.engagements
    assert (open_.attribution, open_.contact_id) == (Attribution.RECIPIENT, CONTACT_0)
    assert "consented to individual tracking" in " ".join(open_.reasons)
    assert decided.contact_dates  # a consenting contact's dates move (R16)


def test_a_contact_recorded_before_consent_existed_is_unknown() -> None:
    assert RecipientFacts(CONTACT_0, True, None).consent is ConsentState.UNKNOWN
    assert EMAIL_FACTS.purpose is IND
    assert EMAIL_FACTS.exempt_purpose is AGG
    assert (ACCOUNT, EMAIL) in _facts().emails
