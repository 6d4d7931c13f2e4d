"""tracking consent: each contact's consent to individual tracking, with its proof (R29)

A contact's current consent (``unknown`` until someone records it) and the history of its
changes: when, the consent, its source, the wording shown and who recorded it. Kept apart
from the marketing legal basis (R16). Account-owned like every table: the primary key
starts with ``account_id``, the foreign key names the account.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sendtrail.db.types

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sendtrail.db.types.UtcDateTime
    text = sqlmodel.sql.sqltypes.AutoString
    with op.batch_alter_table('contact') as batch:
        batch.add_column(sa.Column('tracking_consent', text(length=16), nullable=False,
                                   server_default='unknown'))
    op.create_table(
        'tracking_consent_change',
        sa.Column('account_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('contact_id', sa.Uuid(), nullable=False),
        sa.Column('at', when(timezone=True), nullable=False),
        sa.Column('consent', text(length=16), nullable=False),
        sa.Column('source', text(length=16), nullable=False),
        sa.Column('wording', text(length=2000), nullable=True),
        sa.Column('actor', text(length=400), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.PrimaryKeyConstraint('account_id', 'id'),
    )
    with op.batch_alter_table('tracking_consent_change') as batch:
        batch.create_index('ix_tracking_consent_change_contact',
                           ['account_id', 'contact_id', 'at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_consent_change') as batch:
        batch.drop_index('ix_tracking_consent_change_contact')
    op.drop_table('tracking_consent_change')
    with op.batch_alter_table('contact') as batch:
        batch.drop_column('tracking_consent')
