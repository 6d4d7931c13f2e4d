"""partial indexes of counted engagements per email and of clicks per copy (issue 14)

An email's page (recipient statistics, R8 hints, link clicks) and a report's top emails
(recipients who opened) read an email's counted engagements by type: through the email
index they fetched every row of the table (65 ms for five large emails of a million
engagements on SQLite); ``ix_engagement_counted_email`` holds only counted rows and every
column they read. The deriver reads the recent clicks of the copies a batch clicks (R11):
through the email index that was every recent engagement of those emails (60 ms a batch
under load); ``ix_engagement_copy_clicks`` finds each copy's clicks directly.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_copy_clicks', ['account_id', 'email_id', 'recipient_idx', 'occurred_at', 'sender_copy', 'link_idx'], unique=False, sqlite_where=sa.text("type = 'click'"), postgresql_where=sa.text("type = 'click'"))
        batch_op.create_index('ix_engagement_counted_email', ['account_id', 'email_id', 'type', 'occurred_at', 'recipient_idx', 'link_idx', 'inferred', 'ip'], unique=False, sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))


def downgrade() -> None:
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_copy_clicks', sqlite_where=sa.text("type = 'click'"), postgresql_where=sa.text("type = 'click'"))
        batch_op.drop_index('ix_engagement_counted_email', sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))
