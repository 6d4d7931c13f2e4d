"""Why an email or a link is not tracked, in the reader's language (issue 15, item 12).

The reasons are decided when an email is prepared and kept with it in English
(``tracking/core/prepare.py``, ``html_links.py``, ``html_template.py``, ``tenancy/policy.py``);
they are shown through this phrasebook, which recognises the sentences that carry an address.
"""

from __future__ import annotations

from functools import cache

from sendtrail.i18n.stored import Phrasebook
from sendtrail.tracking.core import html_links, html_template

__all__ = ["explain"]


def explain(reason: str) -> str:
    """A stored not-tracked or removed-tracking sentence in the reader's language."""
    return _sentences().render(reason)


@cache
def _sentences() -> Phrasebook:
    return Phrasebook((*html_links.SKIP_TEMPLATES, html_template.RESTORED_LINK))
