"""``/healthz`` (the process answers) and ``/readyz`` (the database answers, and tracking hits
are being stored or spooled, not dropped)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from sqlalchemy import text

from sendtrail.db.engine import Database

__all__ = ["healthz", "readyz"]


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz")
async def readyz(request: Request[Any, Any, State]) -> Response[dict[str, str]]:
    database: Database = request.app.state.database
    tracking = getattr(request.app.state, "tracking", None)
    refusal = tracking.ingestor.refusal if tracking is not None else None
    if refusal is not None:  # a load balancer should send hits to a node that keeps them
        return Response({"status": "unavailable", "tracking": refusal}, status_code=503)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not ready", with the reason
        return Response(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return Response({"status": "ok", "database": database.dialect})
