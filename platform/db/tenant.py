"""Fail-closed tenant scoping for ORM statements (PostHog's rule, SQLAlchemy's mechanism).

Every ORM SELECT/UPDATE/DELETE touching a ``TenantOwned`` table gets
``account_id = <the session's account>`` added automatically. A session without an
account refuses such statements with ``TenantScopeMissing`` — unless the statement was
explicitly marked ``unscoped()``, a name a grep finds. New and changed rows must belong to
the session's account too.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import Executable

from sendtrail.errors import TenantScopeMissing

__all__ = ["TenantOwned", "unscoped"]

UNSCOPED = "sendtrail_unscoped"
S = TypeVar("S", bound=Executable)


class TenantOwned:
    """Marker mixin for tables whose rows belong to one account (column ``account_id``)."""

    __tenant_owned__: ClassVar[bool] = True
    account_id: uuid.UUID


def unscoped(statement: S) -> S:
    """Mark a statement as deliberately cross-tenant (authentication lookups, admin CLI)."""
    return statement.execution_options(**{UNSCOPED: True})


def _tenant_classes(state: ORMExecuteState) -> list[type[Any]]:
    return [m.class_ for m in state.all_mappers if issubclass(m.class_, TenantOwned)]


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent statement was already scoped
    classes = _tenant_classes(state)
    if not classes or state.execution_options.get(UNSCOPED):
        return
    account_id = state.session.info.get("account_id")
    if account_id is None:
        raise TenantScopeMissing(
            "a tenant-owned table was queried from a session without an account"
        )
    state.statement = state.statement.options(
        *(
            with_loader_criteria(cls, cls.account_id == account_id, include_aliases=True)
            for cls in classes
        )
    )


@event.listens_for(Session, "before_flush")
def _refuse_cross_tenant_writes(session: Session, _context: Any, _instances: Any) -> None:
    account_id = session.info.get("account_id")
    if account_id is None:
        return  # platform-level sessions (CLI, sign-up) may create accounts and their rows
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TenantOwned) and obj.account_id != account_id:
            raise TenantScopeMissing("refusing to write a row of another account")
