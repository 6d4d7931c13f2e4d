"""Our errors keep their message and gain ``extensions.code``; anything else is masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from sendtrail.errors import SendtrailError
from sendtrail.i18n import N_, _

__all__ = ["CodedErrors", "add_default_codes", "is_expected"]

log = logging.getLogger("sendtrail.graphql")


def is_expected(error: GraphQLError) -> bool:
    """Our own errors, and request errors (syntax, validation, variable coercion).

    Request errors have no ``path``: they are raised before any resolver runs and their
    messages come from graphql-core ("Value 'GOLD' does not exist in 'Seat' enum.").
    """
    if error.path is None:
        return True
    return error.original_error is None or isinstance(error.original_error, SendtrailError)


UNEXPECTED = N_("Unexpected error.")
"""What a masked error says (strawberry's wording), in the reader's language."""


class CodedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error),
                         error_message=UNEXPECTED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("unexpected error in GraphQL", exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.message = _(UNEXPECTED)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            original = error.original_error
            if isinstance(original, SendtrailError):
                error.extensions = {**(error.extensions or {}), "code": original.code}
        return processed


def add_default_codes(response: dict[str, Any]) -> dict[str, Any]:
    """Give errors raised before execution (syntax, validation, limits) a code too."""
    for error in response.get("errors") or []:
        error.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    return response
