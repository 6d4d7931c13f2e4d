"""GraphQL types of sending: deliveries, the send result, the compose window's check."""

from __future__ import annotations

from datetime import datetime

import strawberry

from sendtrail.sending.store import DeliveryRow
from sendtrail.sending.values import DeliveryKind
from sendtrail.sending.values import DeliveryStatus as DeliveryStatusValue

__all__ = ["ComposeCheck", "Delivery", "DeliveryStatus"]

DeliveryStatus = strawberry.enum(
    DeliveryStatusValue,
    name="DeliveryStatus",
    description="Where one recipient's copy is: QUEUED, SENT, RETRYING (with the next "
    "attempt's time) or FAILED (with the mail server's answer).",
)


@strawberry.type(description="One recipient's copy of a sent email (R26, R27).")
class Delivery:
    recipient: str
    status: DeliveryStatus  # type: ignore[valid-type]
    attempts: int
    last_error: str | None = strawberry.field(
        description="The upstream mail server's last answer, in its words, when it refused."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When a RETRYING copy is tried again."
    )
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: DeliveryRow) -> Delivery:
        status = DeliveryStatusValue(row.status)
        return cls(
            recipient=row.recipient, status=status, attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if status is DeliveryStatusValue.RETRYING
            else None,
            sent_at=row.sent_at,
        )


def recipient_deliveries(rows: list[DeliveryRow]) -> list[Delivery]:
    return [Delivery.from_row(row) for row in rows if row.kind == DeliveryKind.RECIPIENT]


@strawberry.type(description="What will apply to an email before it is sent.")
class ComposeCheck:
    can_send: bool = strawberry.field(
        description="False when the account (or the sender) has no outbound mail set up."
    )
    track: bool = strawberry.field(description="Whether opens (and maybe clicks) are tracked.")
    log: bool = strawberry.field(description="Whether a copy is logged on the contacts.")
    notes: list[str] = strawberry.field(description="Sentences: what applies and why.")
