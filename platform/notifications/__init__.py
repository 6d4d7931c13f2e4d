"""Notifications: real-time fan-out of engagements and signed webhooks (issue 5, started).

May import ``tracking``, ``tenancy``, ``db``, ``errors``, ``settings``.
"""
