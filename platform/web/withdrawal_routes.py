"""``/w/<token>``: the page a tracked email's footer link opens (R29).

GET shows one short explanation and one button, and never changes anything: mail scanners
and link previews fetch every link of a message. The button POSTs to the same URL, and only
that POST records WITHDRAWN for the token's recipient. No form nonce: the signed token in the
path is the whole authority (no cookie or session is involved), so a page that could forge
the POST must already hold the token, and anyone holding it could send the POST directly.

The page speaks the reader's browser language among English, German and French, else the
account's (accounts have no language yet: English). It answers on the platform's tracking
host and on the account's custom tracking domain; a token of another account arriving on a
custom domain is not found, as a pixel's is (R21). Anything wrong with the token is a 404
page in words, never a 5xx.
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State

from sendtrail.db.engine import Database
from sendtrail.i18n import RECIPIENT_LANGUAGES, _, current_language, negotiate, speaking
from sendtrail.records.withdrawal_link import LinkState, link_state, withdraw
from sendtrail.tracking.core.tokens import InvalidToken, WithdrawalClaims, verify_withdrawal
from sendtrail.tracking.http import TrackingEndpoints, host_name

__all__ = ["confirm_withdrawal", "show_withdrawal"]

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",  # no page may click the button for the reader
    # The page's own inline style and its form to itself; nothing else, from anywhere.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def _explanation() -> str:
    return _(
        "The sender of this email can see whether and when you open it. If you confirm, no "
        "email from this sender, whether already sent to you or still to come, will track "
        "your opens or clicks individually any more."
    )


def _button() -> str:
    return _("Stop tracking me")


def _text(words: str) -> str:
    # Element text, never an attribute: French apostrophes stay as written.
    return html.escape(words, quote=False)


def _page(title: str, text: str, *, button: bool = False, status: int = 200) -> Response[str]:
    form = (
        f'<form method="post"><button type="submit">{_text(_button())}</button></form>'
        if button else ""
    )
    body = (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>body{{font-family:system-ui,sans-serif;"
        "max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}"
        "button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style></head><body>"
        f"<h1>{_text(title)}</h1><p>{_text(text)}</p>{form}</body></html>"
    )
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers={**_HEADERS, "Content-Language": current_language()})


def _language(request: Request[Any, Any, State]) -> str:
    """The browser's language among ours, else the account's (English, for now)."""
    return negotiate(None, request.headers.get("accept-language"), RECIPIENT_LANGUAGES)


def _claims(request: Request[Any, Any, State], token: str) -> WithdrawalClaims | None:
    endpoints: TrackingEndpoints = request.app.state.tracking
    try:
        claims = verify_withdrawal(token, endpoints.keys)
    except InvalidToken:
        return None
    owner = endpoints.host_owner(host_name(request.headers.get("host", "")))
    return None if owner is not None and owner != claims.account_id else claims


def _invalid() -> Response[str]:
    return _page(_("This link is not valid"), _(
        "The link may have been cut short or changed when it was copied. Try the link from "
        "the original email again."), status=404)


def _answer(state: LinkState, *, offer: bool) -> Response[str]:
    if state is LinkState.READY and offer:
        return _page(_("Stop tracking your opens?"), _explanation(), button=True)
    if state in (LinkState.READY, LinkState.WITHDRAWN):
        return _page(_("Your opens are no longer tracked"), _(
            "From now on, no email this sender has already sent you or will send you tracks "
            "your opens or clicks individually. At most, counts that name nobody are kept."))
    if state is LinkState.SHARED:
        return _page(_("This link cannot tell who you are"), _(
            "This email went to several people as one message, so its link cannot tell "
            "which of them you are. Ask the sender directly to stop tracking your opens."))
    if state is LinkState.SENDER_COPY:
        return _page(_("This is the sender's own copy"), _(
            "This link is in the sender's own copy of the email and withdraws nobody; each "
            "recipient's copy has its own link."))
    return _page(_("Nothing to withdraw"), _(
        "This sender no longer keeps anything about you for this email, so there is no "
        "tracking to stop."), status=410)


@get("/w/{token:str}")
async def show_withdrawal(request: Request[Any, Any, State], token: str) -> Response[str]:
    """The explanation and its one button; changes nothing."""
    with speaking(_language(request)):
        claims = _claims(request, token)
        if claims is None:
            return _invalid()
        database: Database = request.app.state.database
        return _answer(await link_state(database, claims), offer=True)


@post("/w/{token:str}", status_code=200)
async def confirm_withdrawal(request: Request[Any, Any, State], token: str) -> Response[str]:
    """Withdraw the link's recipient (once), then confirm it in words."""
    with speaking(_language(request)):
        claims = _claims(request, token)
        if claims is None:
            return _invalid()
        database: Database = request.app.state.database
        # The proof is what the page said, in the words and language it was shown in.
        wording = f"{_explanation()} [{_button()}]"
        state = await withdraw(database, claims, wording=wording, now=request.app.state.clock())
        return _answer(state, offer=False)
