"""tracking purposes: what tracking is for, per account, and the deliverability date (R28)

``account_settings.tracking_purpose`` (individual, aggregate, deliverability or off) and
``exempt_purpose``, the purpose a contact without consent falls back to; the withdrawal
link switch and its custom text (R29); and ``contact.last_open_on``, the one date the
deliverability purpose keeps, overwritten at each open.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    with op.batch_alter_table('account_settings') as batch:
        batch.add_column(sa.Column('tracking_purpose', text(length=16), nullable=False,
                                   server_default='individual'))
        batch.add_column(sa.Column('exempt_purpose', text(length=16), nullable=False,
                                   server_default='aggregate'))
        batch.add_column(sa.Column('withdrawal_link', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('withdrawal_link_text', text(length=200), nullable=True))
    with op.batch_alter_table('contact') as batch:
        batch.add_column(sa.Column('last_open_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact') as batch:
        batch.drop_column('last_open_on')
    with op.batch_alter_table('account_settings') as batch:
        batch.drop_column('withdrawal_link_text')
        batch.drop_column('withdrawal_link')
        batch.drop_column('exempt_purpose')
        batch.drop_column('tracking_purpose')
