"""Replies find the email they answer from the Message-ID it was sent with (R24)."""

from __future__ import annotations

import uuid

import pytest

from sendtrail.tracking.core.message_ids import (
    copy_message_id,
    email_message_id,
    parse_message_id,
)


@pytest.mark.parametrize("index", [None, 0, 7, 65534])
def test_a_sent_message_id_reads_back_as_its_email_and_copy(index: int | None) -> None:
    email_id = uuid.uuid4()
    base = email_message_id(email_id, "t1.na1.track.test")
    found = parse_message_id(copy_message_id(base, index))
    assert found is not None
    assert (found.email_id, found.copy_index, found.base) == (email_id, index, base)


@pytest.mark.parametrize("value", [
    "<abc@example.test>", "<not-ours>", "",
    # Fixed ids: xdist's workers must collect the same names (the values are random each).
    pytest.param(f"<{uuid.uuid4()}.x@host.test>", id="<uuid.x@host.test>"),
    pytest.param(f"{uuid.uuid4()}@host.test", id="uuid@host.test"),
])
def test_other_message_ids_are_not_ours(value: str) -> None:
    assert parse_message_id(value) is None
