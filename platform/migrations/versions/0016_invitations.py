"""invitations: a single-use, expiring link per invited user (issue 15, defect 3)

An invited user sets their password through an emailed link; only the token's SHA-256 is
stored, unique across accounts because the link carries no account. Users invited before
this revision have no invitation: an admin sends them one ("Resend").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 15:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sendtrail.db.types

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sendtrail.db.types.UtcDateTime
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        'invitation',
        sa.Column('account_id', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', text(length=64), nullable=False),
        sa.Column('invited_by', text(length=400), nullable=False),
        sa.Column('created_at', when(timezone=True), nullable=False),
        sa.Column('expires_at', when(timezone=True), nullable=False),
        sa.Column('sent_at', when(timezone=True), nullable=True),
        sa.Column('email_problem', text(length=1000), nullable=True),
        sa.Column('closed_at', when(timezone=True), nullable=True),
        sa.Column('closed_reason', text(length=16), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.PrimaryKeyConstraint('account_id', 'id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('invitation') as batch:
        batch.create_index('ix_invitation_user', ['account_id', 'user_id', 'created_at'],
                           unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitation') as batch:
        batch.drop_index('ix_invitation_user')
    op.drop_table('invitation')
