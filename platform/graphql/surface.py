"""What the schema tells a caller who does not know it yet (issue 12, defect 7).

Introspection and graphql-core's "Did you mean ...?" hints each map the schema for a
stranger: both are settings (``GraphQLSettings``), off unless debug. The schema stays
published by ``sendtrail export-schema``, which reads the code, not introspection.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule

from sendtrail.i18n import N_, _

__all__ = ["INTROSPECTION_OFF", "NoIntrospection", "strip_suggestions"]

INTROSPECTION_OFF = N_(
    "Introspection is turned off on this server (field '{field}'): the schema is published "
    "with `sendtrail export-schema` (web-admin/schema.graphql in the repository), or set "
    "SENDTRAIL_GRAPHQL_INTROSPECTION=true."
)

# graphql-core appends every hint at the end of a message (pyutils.did_you_mean): fields,
# arguments, enum values, input fields and types, in validation and in variable coercion.
_SUGGESTION = re.compile(r"\s*Did you mean .*\Z", re.DOTALL)
# The only ways into the introspection types; __typename names a type, nothing more.
_ENTRIES = frozenset({"__schema", "__type"})


class NoIntrospection(ValidationRule):
    """``__schema`` and ``__type`` are refused; ``__typename`` is not introspection."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in _ENTRIES:
            self.report_error(
                GraphQLError(_(INTROSPECTION_OFF).format(field=node.name.value), node)
            )


def strip_suggestions(errors: list[GraphQLError]) -> None:
    """Cut the hints off in place (validation results are cached: the cut stays cut)."""
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)
