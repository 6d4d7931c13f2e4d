"""Our errors keep their message and gain ``extensions.code``; anything else is masked."""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from sendtrail.errors import SendtrailError

__all__ = ["CodedErrors", "is_expected"]

log = logging.getLogger("sendtrail.graphql")


def is_expected(error: GraphQLError) -> bool:
    """Our own errors, and GraphQL syntax/validation errors (which carry no original)."""
    return error.original_error is None or isinstance(error.original_error, SendtrailError)


class CodedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_expected(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("unexpected error in GraphQL", exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            original = error.original_error
            if isinstance(original, SendtrailError):
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif not error.extensions or "code" not in error.extensions:
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return processed
