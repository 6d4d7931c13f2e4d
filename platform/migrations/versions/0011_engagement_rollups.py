"""hourly engagement rollups maintained by the deriver (issue 14)

Creates ``engagement_rollup`` and fills it from the engagements already stored, in one
``INSERT … SELECT … GROUP BY`` (the hour computed in SQL the same way on both dialects), so
that reports read the same counts right after the upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from sendtrail.db.timeslots import epoch_slot

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_LINK = -1  # tracking/store.py NO_LINK, fixed here as this revision wrote it
KEY = ('account_id', 'hour', 'email_id', 'sender_id', 'link_idx', 'type', 'verdict',
       'counts_in_reports', 'sender_copy', 'inferred')


def upgrade() -> None:
    op.create_table('engagement_rollup',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('email_id', sa.Uuid(), nullable=False),
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('link_idx', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('counts_in_reports', sa.Boolean(), nullable=False),
    sa.Column('sender_copy', sa.Boolean(), nullable=False),
    sa.Column('inferred', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint(*KEY)
    )
    with op.batch_alter_table('engagement_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_rollup_sender', ['account_id', 'sender_id', 'hour'], unique=False)

    # The backfill: every stored engagement counted once, in the hour it occurred (UTC).
    # Literals, not parameters, so that PostgreSQL sees the same expressions in SELECT and
    # GROUP BY.
    engagement = sa.table(
        'engagement', *(sa.column(name) for name in (
            'account_id', 'email_id', 'sender_id', 'link_idx', 'type', 'verdict',
            'counts_in_reports', 'sender_copy', 'inferred', 'occurred_at')),
    )
    rollup = sa.table('engagement_rollup', *(sa.column(name) for name in (*KEY, 'n')))
    e = engagement.c
    key = (e.account_id, epoch_slot(e.occurred_at, 3600), e.email_id, e.sender_id,
           sa.func.coalesce(e.link_idx, sa.literal_column(str(NO_LINK))), e.type, e.verdict, e.counts_in_reports,
           e.sender_copy, e.inferred)
    op.execute(rollup.insert().from_select(
        [*KEY, 'n'], sa.select(*key, sa.func.count()).group_by(*key)
    ))


def downgrade() -> None:
    with op.batch_alter_table('engagement_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_rollup_sender')

    op.drop_table('engagement_rollup')
