"""SENDTRAIL_DERIVE_BUSY_SHARE: how much of a process the deriver takes while hits arrive."""

from __future__ import annotations

import pytest

from sendtrail.errors import InvalidInput
from sendtrail.settings import Settings

BASE = {"SENDTRAIL_SECRET_KEYS": "k" * 40, "SENDTRAIL_DATA_DIR": "/nonexistent"}


def test_the_deriver_takes_a_tenth_unless_told_otherwise() -> None:
    assert Settings.from_env(BASE).tracking.derive_busy_share == 0.1
    told = Settings.from_env({**BASE, "SENDTRAIL_DERIVE_BUSY_SHARE": "0.33"})
    assert told.tracking.derive_busy_share == 0.33
    assert Settings.from_env({**BASE, "SENDTRAIL_DERIVE_BUSY_SHARE": "1"}).tracking \
        .derive_busy_share == 1.0


@pytest.mark.parametrize(("value", "words"), [
    ("0", "more than 0 and at most 1"),
    ("1.5", "more than 0 and at most 1"),
    ("-0.1", "more than 0 and at most 1"),
    ("a tenth", "a fraction such as 0.1"),
])
def test_a_share_that_is_not_a_fraction_is_refused_in_words(value: str, words: str) -> None:
    with pytest.raises(InvalidInput, match="SENDTRAIL_DERIVE_BUSY_SHARE") as refused:
        Settings.from_env({**BASE, "SENDTRAIL_DERIVE_BUSY_SHARE": value})
    assert words in str(refused.value)
