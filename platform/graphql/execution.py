"""How the schema runs resolvers: each one to its end, never cancelled mid-statement.

graphql-core 3.3 cancels the other items of a list (and the sibling fields of an object)
as soon as one of them fails. A resolver cancelled while its statement runs leaves the
request's one database session with an invalidated connection: every later resolver of
the request then fails with ``PendingRollbackError``, and closing the session at the end
of the request can fail too, so one bad item turned a field error into a server error.
Here each resolver's own coroutine runs in a task that the cancellation cannot reach; a
cancelled field waits for it to finish (its statements are serialised by
``RequestContext.db()`` anyway) and then reports the cancellation as before, so the
failing item's error still nulls the list the way the spec says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from graphql import GraphQLOutputType, GraphQLResolveInfo
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from typing_extensions import override

__all__ = ["RunToEndExecutionContext", "run_to_end"]

T = TypeVar("T")


async def run_to_end(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``; if the caller is cancelled, let it finish before giving up."""
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: a sibling's failure is already being reported
        raise


class RunToEndExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @override
    async def complete_awaitable_value(  # graphql-core's hook for an async resolver's result
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        return await super().complete_awaitable_value(
            return_type, field_details_list, info, path, run_to_end(result), position_context
        )
