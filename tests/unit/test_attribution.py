"""attribute and resolve_recipient: who an open or click belongs to and what it moves.

R10 (non-human never counts), R15 (shared tokens are 'Someone'), R16 (privacy mode and the
contact dates), R17 ('Someone' counts nowhere).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sendtrail.tracking.core.attribute import ContactUpdate, attribute, resolve_recipient
from sendtrail.tracking.core.model import Attribution, EmailKind, HitKind, Verdict

OPEN, CLICK = HitKind.OPEN, HitKind.CLICK
SALES, MARKETING = EmailKind.SALES, EmailKind.MARKETING
HUMAN, MACHINE, SELF = Verdict.HUMAN, Verdict.MACHINE, Verdict.SELF
NOTHING = ContactUpdate()


@pytest.mark.parametrize(
    ("token_recipient", "recipient_count", "expected"),
    [
        (None, 1, 0),  # a shared token of a one-recipient message is that recipient
        (None, 2, None),  # R15: shared by several, it is 'Someone'
        (None, 40, None),
        (None, 0, None),
        (0, 1, 0),
        (0, 3, 0),
        (2, 3, 2),
        (3, 3, None),  # per-recipient index out of range
        (7, 3, None),
        (-1, 3, None),
        (0xFFFE, 3, None),
        (0, 0, None),
    ],
)
def test_resolve_recipient(
    token_recipient: int | None, recipient_count: int, expected: int | None
) -> None:
    assert resolve_recipient(token_recipient, recipient_count) == expected


def hit(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "kind": OPEN, "email_kind": SALES, "verdict": HUMAN, "recipient": 0,
        "privacy_mode": False, "has_legal_basis": False,
    }
    return {**arguments, **overrides}


# (case, attribute() arguments, attribution, recipient, counts in reports, contact update)
CASES = [
    ("shared-several-open", hit(recipient=None), Attribution.SOMEONE, None, False, NOTHING),
    ("shared-several-click", hit(kind=CLICK, recipient=None), Attribution.SOMEONE, None,
     False, NOTHING),
    ("privacy-no-basis-open", hit(privacy_mode=True), Attribution.SOMEONE, None, False,
     NOTHING),
    ("privacy-no-basis-click", hit(kind=CLICK, recipient=2, privacy_mode=True),
     Attribution.SOMEONE, None, False, NOTHING),
    ("privacy-with-basis", hit(privacy_mode=True, has_legal_basis=True),
     Attribution.RECIPIENT, 0, True, ContactUpdate(last_sales_email_opened=True)),
    ("no-privacy-no-basis", hit(recipient=3), Attribution.RECIPIENT, 3, True,
     ContactUpdate(last_sales_email_opened=True)),
    ("sales-open", hit(), Attribution.RECIPIENT, 0, True,
     ContactUpdate(last_sales_email_opened=True)),
    ("sales-click", hit(kind=CLICK), Attribution.RECIPIENT, 0, True,
     ContactUpdate(last_sales_email_clicked=True, last_clicked=True)),
    ("marketing-click", hit(kind=CLICK, email_kind=MARKETING), Attribution.RECIPIENT, 0, True,
     ContactUpdate(last_clicked=True)),
    ("marketing-open", hit(email_kind=MARKETING), Attribution.RECIPIENT, 0, True, NOTHING),
    ("machine-recipient", hit(verdict=MACHINE), Attribution.RECIPIENT, 0, False, NOTHING),
    ("self-recipient", hit(kind=CLICK, verdict=SELF), Attribution.RECIPIENT, 0, False,
     NOTHING),
    ("machine-shared", hit(verdict=MACHINE, recipient=None), Attribution.SOMEONE, None, False,
     NOTHING),
    ("self-privacy", hit(verdict=SELF, privacy_mode=True), Attribution.SOMEONE, None, False,
     NOTHING),
]


@pytest.mark.parametrize(
    ("arguments", "attribution", "recipient", "counts", "update"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_attribute(
    arguments: dict[str, Any],
    attribution: Attribution,
    recipient: int | None,
    counts: bool,
    update: ContactUpdate,
) -> None:
    result = attribute(**arguments)
    assert result.attribution is attribution
    assert result.recipient == recipient
    assert result.counts_in_reports is counts
    assert result.contact_update == update
    assert result.contact_update.any is (update != NOTHING)


def test_shared_token_reasons_explain_someone_in_words() -> None:  # R15, R17
    reasons = " ".join(attribute(**hit(recipient=None)).reasons)
    assert "Someone" in reasons
    assert "no report or contact statistic." in reasons
    assert "(R" not in reasons  # issue 15, defect 1: no rule codes in what people read


def test_privacy_mode_reason_says_properties_are_not_updated() -> None:
    reasons = " ".join(attribute(**hit(privacy_mode=True)).reasons)
    assert "Privacy mode" in reasons
    assert "no legal basis" in reasons
    assert "properties are not updated." in reasons  # R16
    assert "(R" not in reasons


def test_an_ordinary_recipient_hit_needs_no_explanation() -> None:
    assert attribute(**hit()).reasons == ()
    assert attribute(**hit(privacy_mode=True, has_legal_basis=True)).reasons == ()


ALL = list(
    itertools.product(
        HitKind, EmailKind, Verdict, (None, 0, 1, 5), (False, True), (False, True)
    )
)


@pytest.mark.parametrize("combination", ALL, ids=lambda c: "-".join(map(str, c)))
def test_invariants_over_every_combination(
    combination: tuple[HitKind, EmailKind, Verdict, int | None, bool, bool],
) -> None:
    kind, email_kind, verdict, recipient, privacy_mode, has_legal_basis = combination
    result = attribute(
        kind=kind, email_kind=email_kind, verdict=verdict, recipient=recipient,
        privacy_mode=privacy_mode, has_legal_basis=has_legal_basis,
    )
    someone = recipient is None or (privacy_mode and not has_legal_basis)
    assert (result.attribution is Attribution.SOMEONE) is someone  # R15, R16
    assert (result.recipient is None) is someone
    if verdict is not Verdict.HUMAN or someone:  # R10, R16, R17
        assert not result.counts_in_reports
        assert not result.contact_update.any
    else:
        assert result.counts_in_reports
    if kind is HitKind.OPEN:  # no open ever moves a click date
        assert not result.contact_update.last_clicked
        assert not result.contact_update.last_sales_email_clicked
    if email_kind is EmailKind.MARKETING:  # marketing never moves the sales dates
        assert not result.contact_update.last_sales_email_opened
        assert not result.contact_update.last_sales_email_clicked
    for reason in result.reasons:  # reasons are sentences
        assert reason[0].isupper(), reason
        assert reason.endswith("."), reason
        assert len(reason.split()) >= 8, reason
    assert len(set(result.reasons)) == len(result.reasons)
