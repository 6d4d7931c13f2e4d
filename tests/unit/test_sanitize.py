"""Logged HTML as the web admin shows it (R23): what survives sanitising, image by image."""

from __future__ import annotations

import pytest

from sendtrail.records.sanitize import sanitize_html

PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(("source", "kept"), [
    (PNG, True),                                  # inline images are part of the email
    ("cid:logo@mail.test", True),                 # attachments referenced by Content-ID
    ("https://images.shop.test/x.png", False),    # remote: only when the viewer asks
    ("x", False),                                 # relative: would fetch from Sendtrail
    ("/records/emails/1/x", False),
    ("data:text/html;base64,PHNjcmlwdD4=", False),  # not an image
    ("javascript:alert(1)", False),
])
def test_only_inline_and_attached_images_keep_their_source(source: str, kept: bool) -> None:
    html = sanitize_html(f'<p>Hello</p><img src="{source}" onerror="alert(1)">')
    assert "onerror" not in html
    assert "<p>Hello</p>" in html
    assert (source in html) is kept


def test_remote_images_load_when_the_viewer_asks() -> None:
    html = sanitize_html('<img src="https://images.shop.test/x.png">', load_remote_images=True)
    assert 'src="https://images.shop.test/x.png"' in html


def test_scripts_are_removed_with_their_content() -> None:
    html = sanitize_html("<script>window.parent.__pwned = 1</script><p>Hi</p>")
    assert "__pwned" not in html
    assert "<script" not in html
