"""Contacts: the people emails are sent to, their legal basis for processing (R16) and the
engagement properties the tracking engine keeps (last sales open/click, last click).

Sits below ``tracking`` (attribution reads the legal basis when a hit arrives) and below
``records`` (timelines). May import ``db``, ``errors`` and ``tenancy`` (authorization).
"""
