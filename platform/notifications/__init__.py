"""Notifications: real-time fan-out of engagements and signed webhooks.

May import ``tracking``, ``tenancy``, ``db``, ``errors``, ``settings``.
"""
