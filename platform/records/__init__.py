"""Records: logged emails with their attachments, contact timelines, the inbound SMTP
logging address, replies, and privacy rights (legal basis, export, erasure).

May import ``contacts``, ``tracking``, ``tenancy``, ``db``, ``errors``, ``settings``.
"""
