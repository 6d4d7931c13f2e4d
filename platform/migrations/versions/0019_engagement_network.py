"""engagement.network: the network each hit came from, so an email's page counts in SQL

An email's page explains multiple opens (R8) by the networks they came from
(``tracking.core.hints.network_of``: the /24 or /48). Working that out in Python meant
reading every counted open of the email (60 ms for one with 6,500 opens, issue 14); with
the network stored beside the address, one statement counts networks and finds quick
repeats per recipient. Existing rows get theirs from each distinct address, worked out by
the same function (``network_of``) through a scratch table, in one pass of the table. The
counted-engagements index carries the network instead of the address.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from sendtrail.tracking.core.hints import network_of

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=True))
    _backfill()
    with op.batch_alter_table('engagement') as batch:
        batch.drop_index('ix_engagement_counted_email', sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))
        batch.create_index('ix_engagement_counted_email', ['account_id', 'email_id', 'type', 'occurred_at', 'recipient_idx', 'link_idx', 'inferred', 'network'], unique=False, sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))


def _backfill() -> None:
    conn = op.get_bind()
    addresses = [row[0] for row in conn.execute(sa.text(
        "SELECT DISTINCT ip FROM engagement WHERE ip IS NOT NULL AND ip <> ''"))]
    if not addresses:
        return
    conn.execute(sa.text(
        "CREATE TEMPORARY TABLE engagement_network (ip VARCHAR(64) PRIMARY KEY, "
        "network VARCHAR(64))"))
    for start in range(0, len(addresses), _BATCH):
        conn.execute(sa.text("INSERT INTO engagement_network (ip, network) VALUES (:ip, :network)"),
                     [{"ip": ip, "network": network_of(ip)}
                      for ip in addresses[start:start + _BATCH]])
    conn.execute(sa.text(
        "UPDATE engagement SET network = (SELECT n.network FROM engagement_network n "
        "WHERE n.ip = engagement.ip) WHERE ip IS NOT NULL AND ip <> ''"))
    conn.execute(sa.text("DROP TABLE engagement_network"))


def downgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.drop_index('ix_engagement_counted_email', sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))
        batch.create_index('ix_engagement_counted_email', ['account_id', 'email_id', 'type', 'occurred_at', 'recipient_idx', 'link_idx', 'inferred', 'ip'], unique=False, sqlite_where=sa.text('counts_in_reports IS 1'), postgresql_where=sa.text('counts_in_reports IS true'))
        batch.drop_column('network')
