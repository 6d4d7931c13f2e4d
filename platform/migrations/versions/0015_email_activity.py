"""what happened to each email and recipient, for the emails list (issue 15, item 6)

The emails list shows, filters and sorts by who opened, clicked and replied: the first
counted open and reply and the last activity of each email, and each recipient's first
counted click and reply (their first open is 0009's). The deriver and logged replies keep
them from now on; this revision fills them from the engagements stored so far. An email
only logged has no activity: its last activity is its send time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sendtrail.db.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONLY_LOGGED = sa.text("tracked_email_id IS NULL")
# SQLite adds a NOT NULL column only with a default; every row is then set below.
_EPOCH = sa.text("'1970-01-01 00:00:00.000000'")


def _counted(table: str, kind: str, *, recipient: bool) -> str:
    """The counted engagements of ``kind`` of a row of ``table`` (an email, or a recipient)."""
    email_id = "email_id" if recipient else "id"
    where = (f"e.account_id = {table}.account_id AND e.email_id = {table}.{email_id}"
             " AND e.counts_in_reports = true")
    if recipient:
        where += f" AND e.recipient_idx = {table}.idx AND e.sender_copy = false"
    return where + (f" AND e.type = '{kind}'" if kind else "")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    when = sendtrail.db.types.UtcDateTime
    with op.batch_alter_table('email_recipient') as batch:
        batch.add_column(sa.Column('first_human_click_at', when(), nullable=True))
        batch.add_column(sa.Column('replied_at', when(), nullable=True))
    with op.batch_alter_table('tracked_email') as batch:
        batch.add_column(sa.Column('opened_at', when(), nullable=True))
        batch.add_column(sa.Column('replied_at', when(), nullable=True))
    for table in ('tracked_email', 'logged_email'):
        op.add_column(table, sa.Column('last_activity_at', when(), nullable=postgres,
                                       server_default=None if postgres else _EPOCH))
    # Built from this file's constants only (no input): S608 does not apply.
    op.execute(
        "UPDATE email_recipient SET"  # noqa: S608
        " first_human_click_at = (SELECT min(e.occurred_at) FROM engagement e WHERE "
        + _counted("email_recipient", "click", recipient=True) + "),"
        " replied_at = (SELECT min(e.occurred_at) FROM engagement e WHERE "
        + _counted("email_recipient", "reply", recipient=True) + ")"
    )
    op.execute(
        "UPDATE tracked_email SET"  # noqa: S608
        " opened_at = (SELECT min(e.occurred_at) FROM engagement e WHERE "
        + _counted("tracked_email", "open", recipient=False) + "),"
        " replied_at = (SELECT min(e.occurred_at) FROM engagement e WHERE "
        + _counted("tracked_email", "reply", recipient=False) + "),"
        " last_activity_at = coalesce((SELECT max(e.occurred_at) FROM engagement e WHERE "
        + _counted("tracked_email", "", recipient=False) + "), sent_at)"
    )
    op.execute("UPDATE logged_email SET last_activity_at = sent_at")
    if postgres:
        for table in ('tracked_email', 'logged_email'):
            op.alter_column(table, 'last_activity_at', nullable=False)
    op.create_index('ix_tracked_email_account_activity', 'tracked_email',
                    ['account_id', 'last_activity_at', 'id'], unique=False)
    op.create_index('ix_logged_email_only_logged_activity', 'logged_email',
                    ['account_id', 'last_activity_at', 'id'], unique=False,
                    sqlite_where=_ONLY_LOGGED, postgresql_where=_ONLY_LOGGED)


def downgrade() -> None:
    op.drop_index('ix_logged_email_only_logged_activity', table_name='logged_email',
                  sqlite_where=_ONLY_LOGGED, postgresql_where=_ONLY_LOGGED)
    op.drop_index('ix_tracked_email_account_activity', table_name='tracked_email')
    for table in ('tracked_email', 'logged_email'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('last_activity_at')
    with op.batch_alter_table('tracked_email') as batch:
        batch.drop_column('replied_at')
        batch.drop_column('opened_at')
    with op.batch_alter_table('email_recipient') as batch:
        batch.drop_column('replied_at')
        batch.drop_column('first_human_click_at')
