"""indexes for every filter the API offers (issue 14)

Every filter of ``engagements``, ``activityFeed``, ``emails``, a contact's timeline and
an endpoint's webhook deliveries gets an index that ends with the list's keyset
(time, id), so that a page is read in order from its own index and stops after
``first`` rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, table, columns after this revision, columns before it (None: the index is new).
# The verdict index comes first on purpose: without planner statistics SQLite breaks a tie
# between two equally good-looking indexes in favour of the newest, and a contact's ten
# engagements must not be looked for by walking every HUMAN one (app.py runs ANALYZE too).
INDEXES: list[tuple[str, str, list[str], list[str] | None]] = [
    ("ix_engagement_account_verdict", "engagement",
     ["account_id", "verdict", "occurred_at", "id"], None),
    ("ix_engagement_account_sender", "engagement",
     ["account_id", "sender_id", "occurred_at", "id"], None),
    ("ix_engagement_account_email", "engagement",
     ["account_id", "email_id", "occurred_at", "id"], ["account_id", "email_id", "occurred_at"]),
    ("ix_engagement_account_contact", "engagement",
     ["account_id", "contact_id", "occurred_at", "id"],
     ["account_id", "contact_id", "occurred_at"]),
    ("ix_tracked_email_account_kind", "tracked_email",
     ["account_id", "kind", "sent_at", "id"], None),
    ("ix_tracked_email_account_sender", "tracked_email",
     ["account_id", "sender_id", "sent_at", "id"], ["account_id", "sender_id", "sent_at"]),
    ("ix_legal_basis_change_contact", "legal_basis_change",
     ["account_id", "contact_id", "at", "id"], ["account_id", "contact_id", "at"]),
    ("ix_webhook_message_endpoint", "webhook_message",
     ["account_id", "endpoint_id", "created_at", "id"],
     ["account_id", "endpoint_id", "created_at"]),
]


def _replace(changes: list[tuple[str, str, list[str] | None, list[str] | None]]) -> None:
    """Drop each index that exists before and create each that exists after.

    On PostgreSQL both happen CONCURRENTLY: building an index over millions of engagements
    must not hold up the writes of tracking hits meanwhile. That cannot run inside a
    transaction, hence the autocommit block (each statement commits on its own).
    """
    context = op.get_context()
    if context.dialect.name != "postgresql":
        for name, table, before, after in changes:
            if before is not None:
                op.drop_index(name, table_name=table)
            if after is not None:
                op.create_index(name, table, after)
        return
    with context.autocommit_block():
        for name, table, before, after in changes:
            if before is not None:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
            if after is not None:
                op.create_index(name, table, after, postgresql_concurrently=True)


def upgrade() -> None:
    _replace([(name, table, old, new) for name, table, new, old in INDEXES])


def downgrade() -> None:
    _replace([(name, table, new, old) for name, table, new, old in INDEXES])
