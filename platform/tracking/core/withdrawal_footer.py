"""The footer link of R29: one short line, after the body, to the recipient's withdrawal page.

It is added when a message is rendered, after its template was cut, so it is never one of
the email's tracked links: following it counts as no click. Its URL carries a withdrawal
token (``tokens.sign_withdrawal``), never a pixel's or a click's.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sendtrail.i18n import N_, _, speaking
from sendtrail.tracking.core.tokens import InvalidToken, TokenKeys, verify_withdrawal

__all__ = ["DEFAULT_TEXT", "default_text", "footer_markup", "is_withdrawal_link"]

DEFAULT_TEXT = N_("Stop tracking whether I open this")
_PATH = re.compile(r"/w/([A-Za-z0-9_-]+)\Z")


def default_text(language: str) -> str:
    """The footer's default words in ``language`` (en, de or fr; else English)."""
    with speaking(language):
        return _(DEFAULT_TEXT)


def footer_markup(url: str, text: str) -> str:
    """A small, plain paragraph: inline styles only, as mail clients drop ``<style>``."""
    return (
        '<p style="margin:24px 0 0;font-size:11px;line-height:1.4;color:#888888;">'
        f'<a href="{html.escape(url)}" style="color:#888888;text-decoration:underline;">'
        f"{html.escape(text, quote=False)}</a></p>"
    )


def is_withdrawal_link(url: str, keys: TokenKeys) -> bool:
    """Whether ``url`` is a footer link of ours, on any host (quoted from an earlier email)."""
    try:
        match = _PATH.search(urlsplit(url).path)
        if match is None:
            return False
        verify_withdrawal(match.group(1), keys)
    except (ValueError, InvalidToken):
        return False
    return True
