"""two-stage ingestion: raw hits, first human open per recipient

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sendtrail.db.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'raw_hit',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('part', sa.SmallInteger(), nullable=False),
        sa.Column('account_id', sa.Uuid(), nullable=False),
        sa.Column('hit', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    op.create_index('ix_raw_hit_part_seq', 'raw_hit', ['part', 'seq'], unique=False)
    with op.batch_alter_table('email_recipient') as batch:
        batch.add_column(sa.Column('first_human_open_at', sendtrail.db.types.UtcDateTime(),
                                   nullable=True))
    # Recipients opened before this revision: their earliest human open, seen or inferred.
    op.execute(
        "UPDATE email_recipient SET first_human_open_at = ("
        " SELECT min(e.occurred_at) FROM engagement e"
        " WHERE e.account_id = email_recipient.account_id"
        " AND e.email_id = email_recipient.email_id"
        " AND e.recipient_idx = email_recipient.idx"
        " AND e.type = 'open' AND e.verdict = 'human' AND e.sender_copy = false)"
    )


def downgrade() -> None:
    with op.batch_alter_table('email_recipient') as batch:
        batch.drop_column('first_human_open_at')
    op.drop_index('ix_raw_hit_part_seq', table_name='raw_hit')
    op.drop_table('raw_hit')
