"""The footer link of R29: one short line, after the body, to the recipient's withdrawal page.

It is added when a message is rendered, after its template was cut, so it is never one of
the email's tracked links: following it counts as no click. Its URL carries a withdrawal
token (``tokens.sign_withdrawal``), never a pixel's or a click's.
"""

from __future__ import annotations

import html

from sendtrail.i18n import N_, _, speaking

__all__ = ["DEFAULT_TEXT", "default_text", "footer_markup"]

DEFAULT_TEXT = N_("Stop tracking whether I open this")


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
