"""partial index of the emails that were only logged (issue 15, defect 4)

The emails list shows tracked emails and the emails only logged (BCC, forwarding,
``logEmail``), newest first. Most logged copies in an account that tracks belong to a
tracked email and are listed as that email; this index holds only the others, so a page
of them is read from the index without skipping the rest.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONLY_LOGGED = sa.text("tracked_email_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table('logged_email', schema=None) as batch_op:
        batch_op.create_index('ix_logged_email_only_logged', ['account_id', 'sent_at', 'id'],
                              unique=False, sqlite_where=_ONLY_LOGGED,
                              postgresql_where=_ONLY_LOGGED)


def downgrade() -> None:
    with op.batch_alter_table('logged_email', schema=None) as batch_op:
        batch_op.drop_index('ix_logged_email_only_logged', sqlite_where=_ONLY_LOGGED,
                            postgresql_where=_ONLY_LOGGED)
