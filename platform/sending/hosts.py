"""STAND-IN for the adapters worker's module (issue 13 contract); main's version replaces it."""

from __future__ import annotations

import asyncio
import socket

from sendtrail.errors import InvalidInput
from sendtrail.notifications.targets import check_address, literal_address

__all__ = ["check_upstream_host"]


async def check_upstream_host(host: str, *, allow_private: bool) -> None:
    host = host.strip().rstrip(".")
    if not host or len(host) > 253:
        raise InvalidInput("Give the upstream server's host name or address.")
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                                  type=socket.SOCK_STREAM)
        except OSError as error:
            raise InvalidInput(f"The host {host} does not resolve ({error}).") from error
        addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        reason = check_address(address, allow_loopback=allow_private)
        if reason and not allow_private:
            raise InvalidInput(f"The host {host} is {reason}: set "
                               "SENDTRAIL_OUTBOUND_ALLOW_PRIVATE to send through it.")
