"""``/healthz`` (the process answers) and ``/readyz`` (the database answers too)."""

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
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not ready", with the reason
        return Response(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return Response({"status": "ok", "database": database.dialect})
