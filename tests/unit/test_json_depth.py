"""The JSON depth check and the Accept negotiation of /graphql, table-driven (issue 12,
defects 8 and 15)."""

from __future__ import annotations

import json

import pytest

from sendtrail.web.graphql_http import GRAPHQL_RESPONSE, JSON, negotiate
from sendtrail.web.json_depth import MAX_JSON_DEPTH, too_deep


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("document", "deep"), [
    ("{}", False),
    ('{"query": "{ __typename }"}', False),
    (nested(MAX_JSON_DEPTH), False),
    (nested(MAX_JSON_DEPTH + 1), True),
    (nested(1_000), True),
    ('{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), True),
    ("[" * 1_000, True),  # never closed: the decoder would recurse before seeing the end
    # Many siblings are wide, not deep.
    (json.dumps([[[i]] for i in range(5_000)]), False),
    # Brackets inside strings (escaped quotes included) are text.
    (json.dumps({"q": "[" * 5_000, "r": '\\"[' * 500}), False),
    (json.dumps({"q": '"' + "{" * 5_000}), False),
    (json.dumps({"q": "\\" + "[" * 100, "r": "\\\"" + "]" * 100}), False),
    (json.dumps({"q": "\\", "deep": json.loads(nested(MAX_JSON_DEPTH + 1))}), True),
    ("{ \"not a JSON", False),  # malformed but shallow: the decoder says so itself
])
def test_too_deep(document: str, deep: bool) -> None:
    assert too_deep(document) is deep
    assert too_deep(document.encode()) is deep


@pytest.mark.parametrize(("accept", "media_type"), [
    (None, JSON),
    ("", JSON),
    ("*/*", JSON),
    ("application/*", JSON),
    ("text/html", JSON),
    ("application/json", JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"application/json, {GRAPHQL_RESPONSE}", JSON),  # equal q: the first listed
    (f"{GRAPHQL_RESPONSE};q=0.5, application/json", JSON),
    (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
    ("APPLICATION/GRAPHQL-RESPONSE+JSON ; q=1", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=oops, application/json;q=0.1", JSON),
])
def test_negotiate(accept: str | None, media_type: str) -> None:
    assert negotiate(accept) == media_type
