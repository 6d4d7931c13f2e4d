"""Tenancy: accounts, users, roles, seats and entitlements, credentials, sessions, audit log.

Builds the ``TrackingPolicy`` the engine consumes. May import ``db``, ``errors``,
``settings`` and ``tracking.core``; never ``graphql``, ``web`` or ``app``.
"""
