"""Attachment downloads and logged HTML for the sandboxed frame (owning account only;
support staff name the account they inspect with ``?account=<id>``, audited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.datastructures import State

from sendtrail.db.engine import Database
from sendtrail.errors import NotFound
from sendtrail.i18n import _
from sendtrail.records import logbook
from sendtrail.records.mime import safe_media_type
from sendtrail.records.sanitize import CONTENT_SECURITY_POLICY, sanitize_html
from sendtrail.records.services import RecordsConfig
from sendtrail.settings import Settings
from sendtrail.tenancy.auth import record_support_read
from sendtrail.tenancy.users import parse_id
from sendtrail.web.principal import authenticate_link

__all__ = ["download_attachment", "logged_email_html"]


async def _actor(request: Request[Any, Any, State], database: Database) -> Any:
    settings: Settings = request.app.state.settings
    async with database.session(account_id=None) as session:
        principal = await authenticate_link(request, session, settings)
    if principal.account_id is None:
        raise NotFound(_("Choose an account first."))
    return principal


@get("/records/attachments/{attachment_id:str}")
async def download_attachment(
    request: Request[Any, Any, State], attachment_id: str
) -> Response[bytes]:
    database: Database = request.app.state.database
    records: RecordsConfig = request.app.state.records
    principal = await _actor(request, database)
    async with database.session(account_id=principal.account_id) as session:
        row = await logbook.get_attachment(session, principal, principal.account_id,
                                           parse_id(attachment_id, "attachment"))
        if principal.is_staff:  # support reads are audited in the inspected account
            await record_support_read(session, principal, what=f"attachment {attachment_id}")
    if row is None:
        raise NotFound(_("No attachment with id {id}.").format(id=attachment_id))
    try:
        data = records.blobs.get(row.account_id, row.sha256)
    except FileNotFoundError:
        raise NotFound(_("The file of attachment {id} is no longer stored.").format(
            id=attachment_id)) from None
    ascii_name = row.filename.encode("ascii", "replace").decode().replace('"', "'")
    return Response(data, media_type=safe_media_type(row.content_type), headers={
        "Content-Disposition": (f"attachment; filename=\"{ascii_name}\"; "
                                f"filename*=UTF-8''{quote(row.filename)}"),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    })


@get("/records/emails/{email_id:str}/html")
async def logged_email_html(
    request: Request[Any, Any, State], email_id: str, remote_images: bool = False
) -> Response[str]:
    database: Database = request.app.state.database
    principal = await _actor(request, database)
    async with database.session(account_id=principal.account_id) as session:
        row = await logbook.get_logged_email(session, principal, principal.account_id,
                                             parse_id(email_id, "email"))
        if principal.is_staff:
            await record_support_read(session, principal, what=f"logged email {email_id} HTML")
    if row is None or row.html is None:
        raise NotFound(_("No logged HTML for email {id}.").format(id=email_id))
    html = sanitize_html(row.html, load_remote_images=remote_images)
    csp = CONTENT_SECURITY_POLICY.replace("img-src data: cid:", "img-src data: cid: https: http:") \
        if remote_images else CONTENT_SECURITY_POLICY
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    })
