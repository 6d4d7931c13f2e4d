"""The schema object: roots, limits (depth, tokens, aliases), caches and error coding."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

from sendtrail.graphql.consent_resolvers import ConsentMutation
from sendtrail.graphql.domain_resolvers import DomainMutation, DomainQuery
from sendtrail.graphql.errors import CodedErrors
from sendtrail.graphql.execution import RunToEndExecutionContext
from sendtrail.graphql.getting_started_resolvers import GettingStartedQuery
from sendtrail.graphql.invitation_resolvers import InvitationMutation
from sendtrail.graphql.mutations import Mutation
from sendtrail.graphql.notification_resolvers import (
    NotificationMutation,
    NotificationSubscription,
)
from sendtrail.graphql.outbound_resolvers import OutboundMutation
from sendtrail.graphql.queries import Query
from sendtrail.graphql.records_resolvers import RecordsMutation, RecordsQuery
from sendtrail.graphql.report_resolvers import ReportQuery
from sendtrail.graphql.scalars import SCALAR_MAP
from sendtrail.graphql.sending_resolvers import (
    SendingMutation,
    SendingQuery,
    SendingSubscription,
)
from sendtrail.graphql.support_resolvers import SupportQuery
from sendtrail.graphql.surface import NoIntrospection, strip_suggestions
from sendtrail.graphql.tracking_resolvers import TrackingMutation, TrackingQuery
from sendtrail.graphql.webhook_resolvers import WebhookMutation, WebhookQuery
from sendtrail.i18n import current_language
from sendtrail.settings import GraphQLSettings

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "build_schema", "schema_sdl"]

MAX_DEPTH = 10
MAX_TOKENS = 2_000
MAX_ALIASES = 30


@strawberry.type(name="Query")
class RootQuery(
    Query, DomainQuery, TrackingQuery, ReportQuery, RecordsQuery, WebhookQuery, SupportQuery,
    SendingQuery, GettingStartedQuery,
):
    pass


@strawberry.type(name="Mutation")
class RootMutation(
    Mutation, DomainMutation, NotificationMutation, TrackingMutation, RecordsMutation,
    WebhookMutation, SendingMutation, OutboundMutation, InvitationMutation, ConsentMutation,
):
    pass


@strawberry.type(name="Subscription")
class RootSubscription(NotificationSubscription, SendingSubscription):
    pass


@lru_cache(maxsize=256)
def _validated(schema: Any, document: Any, rules: Any, language: str) -> list[GraphQLError]:
    # ``language`` is part of the key only: the rules read it through sendtrail.i18n.
    return validate_document(schema, document, rules)


class LanguageValidationCache(ValidationCache):
    """Strawberry's validation cache, keyed by the reader's language too: its errors are
    sentences (the introspection refusal, a DateTime literal's coercion), and one cache for
    all languages would answer everyone in the language of whoever sent the document first."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = _validated(
            context.schema._schema, context.graphql_document, context.validation_rules,
            current_language(),
        )
        yield


class SendtrailSchema(strawberry.Schema):
    suggestions: bool = False

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Every error passes here before it is masked or answered, request errors included.
        if not self.suggestions:
            strip_suggestions(errors)
        # CodedErrors logs the unexpected ones; a user's bad input is not a server error.


def build_schema(graphql: GraphQLSettings | None = None) -> strawberry.Schema:
    """The schema; ``graphql`` decides introspection and suggestions (both off by default)."""
    graphql = graphql or GraphQLSettings()
    surface: list[Any] = [] if graphql.introspection else [
        lambda: AddValidationRules([NoIntrospection]),
    ]
    schema = SendtrailSchema(
        query=RootQuery,
        mutation=RootMutation,
        subscription=RootSubscription,
        # Every DateTime and Upload argument is checked once, here (issue 12, defect 8).
        config=StrawberryConfig(
            disable_field_suggestions=not graphql.suggestions, scalar_map=SCALAR_MAP
        ),
        # Factories: strawberry builds fresh extensions per request (the caches are shared).
        extensions=[
            *surface,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: ParserCache(maxsize=256),
            LanguageValidationCache,
            CodedErrors,
        ],
        # One failing list item must not cancel its siblings mid-statement.
        execution_context_class=RunToEndExecutionContext,
    )
    schema.suggestions = graphql.suggestions
    return schema


def schema_sdl() -> str:
    """The schema in SDL, as committed to ``web-admin/schema.graphql``."""
    return build_schema().as_str() + "\n"
