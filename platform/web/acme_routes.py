"""``/.well-known/acme-challenge/<token>``: Sendtrail answers HTTP-01 for its custom domains."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get

from sendtrail.domains.challenges import key_authorization
from sendtrail.tracking.http import host_name

__all__ = ["acme_challenge"]


@get("/.well-known/acme-challenge/{token:str}", media_type=MediaType.TEXT,
     include_in_schema=False)
async def acme_challenge(request: Request[Any, Any, Any], token: str) -> Response[str]:
    answer = await key_authorization(
        request.app.state.database.engine, token=token,
        host=host_name(request.headers.get("host") or ""),
        now=request.app.state.clock(),
    )
    if answer is None:
        return Response("No such challenge on this host.", status_code=404,
                        media_type=MediaType.TEXT)
    return Response(answer, media_type=MediaType.TEXT)
