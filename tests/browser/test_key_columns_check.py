"""The harness's own check that a table's key column stays on a phone's screen (issue 15,
item 9, "fail on a table whose key column is off-screen at 390 px"): shown a table that
scrolls sideways with its key cell beyond the screen, it names that cell; cards whose key
line fits, and a table hidden on phones, pass."""

from __future__ import annotations

from browser.harness import Ui

WIDE_TABLE = """<div style="overflow-x: auto"><table style="min-width: 1600px"><tr>
  <td style="width: 1500px">Pat Doe</td><td data-key-column>Deactivate</td></tr></table></div>"""
CARDS = """<table style="display: none; min-width: 720px"><tr><td style="width: 600px">Pat</td>
  <td data-key-column>Deactivate</td></tr></table>
<ul aria-label="Users"><li>Pat Doe <span data-key-column>Deactivate</span></li></ul>"""


def test_a_key_cell_scrolled_off_a_phone_is_named_and_cards_pass(phone_ui: Ui) -> None:
    phone_ui.page.set_content(WIDE_TABLE)
    off = phone_ui.key_columns_off_screen()
    assert len(off) == 1, off
    assert '"Deactivate"' in off[0], off

    phone_ui.page.set_content(CARDS)  # what the teardown checks last: it passes
    assert phone_ui.key_columns_off_screen() == []


def test_a_wide_table_is_allowed_to_scroll_on_a_desktop(ui: Ui) -> None:
    ui.page.set_content(WIDE_TABLE)  # its key cell is beyond 1280 px too
    assert ui.page.evaluate("document.querySelector('[data-key-column]')"
                            ".getBoundingClientRect().left") > 1280
    assert ui.key_columns_off_screen() == []
