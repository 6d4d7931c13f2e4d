"""The pure part of sending: bytes in, bytes out, no I/O (stdlib and ``sendtrail.errors``)."""
