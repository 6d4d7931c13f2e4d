"""Sending (R26, R27): outbound mail per account, the SMTP submission relay, ``sendEmail``.

A submission (from the relay or the compose window) is stored with one delivery per
recipient before it is acknowledged; a delivery worker on any node sends each copy through
the account's own upstream SMTP server, files one untracked copy in the Sent folder, and
records every attempt. See docs/architecture.md, "The sending path".

Modules:
- ``core/``: pure: reading a submitted message, splicing one copy's HTML into the raw
  bytes, composing a message from the compose window (no I/O, stdlib only)
- ``values.py``: enums and frozen values shared by the modules below
- ``store.py``: the tables (outbound settings, DKIM keys, submissions, deliveries)
- ``hosts.py``: where an upstream SMTP or IMAP host may be (like webhook targets)
- ``upstream.py``: the SMTP client towards the account's server, outcomes in words
- ``sent_folder.py``: IMAP APPEND of the sender's copy
- ``dkim.py``: DKIM signing of a finished copy
- ``outbound.py``: the admin use cases of outbound mail (settings, own logins, test)
- ``outbound_dkim.py``: the DKIM keys per sending domain (generate or check, the DNS record)
- ``service.py``: accepting a submission (``submit``) and ``sendEmail``
- ``worker.py``: the delivery worker (leases, retries, final failures)
- ``relay.py``: the SMTP submission relay (aiosmtpd, AUTH with an API token)
"""
