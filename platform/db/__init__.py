"""Storage plumbing: engines, sessions, the fail-closed tenant scope and migrations.

Imports nothing else of Sendtrail but ``errors``; domain packages import this.
"""

from sendtrail.db.engine import Database, async_url, sync_url
from sendtrail.db.tenant import TenantOwned, unscoped

__all__ = ["Database", "TenantOwned", "async_url", "sync_url", "unscoped"]
