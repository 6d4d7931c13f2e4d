"""daily and series engagement rollups beside the hourly ones (issue 14)

Reports over weeks and months ranked emails and links by reading every hourly rollup row of
the range (about 190,000 for 90 days of a million engagements) and built their time series
from the same rows. ``engagement_rollup_day`` sums the hourly rows per UTC day, and
``engagement_rollup_series`` sums them over emails and links; both are filled here from the
hourly rollups, so that reports read the same counts right after the upgrade.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_KEY = ('account_id', 'day', 'email_id', 'sender_id', 'link_idx', 'type',
           'counts_in_reports')
SERIES_KEY = ('account_id', 'hour', 'sender_id', 'type', 'verdict', 'counts_in_reports')


def upgrade() -> None:
    op.create_table('engagement_rollup_day',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('email_id', sa.Uuid(), nullable=False),
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('link_idx', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('counts_in_reports', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint(*DAY_KEY)
    )
    with op.batch_alter_table('engagement_rollup_day', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_rollup_day_sender', ['account_id', 'sender_id', 'day'], unique=False)

    op.create_table('engagement_rollup_series',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sender_id', sa.Uuid(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('counts_in_reports', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint(*SERIES_KEY)
    )

    # The backfill: the hourly rollups summed per day and over emails and links. Literals,
    # not parameters, so that PostgreSQL sees the same expressions in SELECT and GROUP BY.
    hourly = sa.table('engagement_rollup', *(sa.column(name) for name in (
        'account_id', 'hour', 'email_id', 'sender_id', 'link_idx', 'type', 'verdict',
        'counts_in_reports', 'n')))
    r = hourly.c
    day = (r.account_id, sa.literal_column('engagement_rollup.hour / 24'), r.email_id,
           r.sender_id, r.link_idx, r.type, r.counts_in_reports)
    series = (r.account_id, r.hour, r.sender_id, r.type, r.verdict, r.counts_in_reports)
    daily = sa.table('engagement_rollup_day', *(sa.column(n) for n in (*DAY_KEY, 'n')))
    summed = sa.table('engagement_rollup_series', *(sa.column(n) for n in (*SERIES_KEY, 'n')))
    op.execute(daily.insert().from_select(
        [*DAY_KEY, 'n'], sa.select(*day, sa.func.sum(r.n)).group_by(*day)))
    op.execute(summed.insert().from_select(
        [*SERIES_KEY, 'n'], sa.select(*series, sa.func.sum(r.n)).group_by(*series)))


def downgrade() -> None:
    op.drop_table('engagement_rollup_series')
    with op.batch_alter_table('engagement_rollup_day', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_rollup_day_sender')

    op.drop_table('engagement_rollup_day')
