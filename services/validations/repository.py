"""Every query of the Validation Hub. Submissions and decisions are one SQL function call each
(migration 0048): the locks they take are held inside that call only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Integer, Select, Text, Uuid, bindparam, cast, column, func, literal, select, table, update
from sqlalchemy.dialects.postgresql import ARRAY, INTERVAL, JSON, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from services.core.db import AnySession, UserSession
from services.core.pagination import Keyset
from services.core.query import compiled, shaped
from services.validations.tables import validation_requests, validation_rounds

r = validation_requests.c
# The display columns a request shows from the tables it belongs to, named here rather than imported:
# the projects module builds on this one, so importing its tables would make a cycle.
_clients = table("clients", column("id", Uuid), column("company_name", Text), schema="public")
_projects = table("projects", column("id", Uuid), column("name", Text), schema="public")
_steps = table("project_steps", column("id", Uuid), column("title", Text), column("position", Integer), schema="public")
_current = validation_rounds.alias("cur")
_READ = select(
    r.id, r.client_id, _clients.c.company_name, r.project_id, _projects.c.name.label("project_name"), r.step_id,
    _steps.c.title.label("step_title"), _steps.c.position.label("step_position"), r.status, r.current_round,
    func.coalesce(_current.c.message, "").label("last_message"), r.submitted_by, r.last_submitted_at,
    r.decided_at, r.created_at, r.updated_at,
).select_from(
    validation_requests.join(_clients, _clients.c.id == r.client_id)
    .join(_projects, _projects.c.id == r.project_id)
    .join(_steps, _steps.c.id == r.step_id)
    .outerjoin(_current, (_current.c.request_id == r.id) & (_current.c.round == r.current_round))
)  # fmt: skip
QUEUE = Keyset(r.last_submitted_at, r.id, kinds=(datetime, UUID), descending=False)
HISTORY = Keyset(r.created_at, r.id, kinds=(datetime, UUID), descending=True)
_OPEN = r.status.in_([literal("pending"), literal("changes_requested")])


class Refused(Exception):
    """A submission or decision the database refused: its SQLSTATE, message and field."""

    def __init__(self, sqlstate: str, message: str, field: str | None) -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.field = sqlstate, message, field


_SUBMIT = "select detail from private.submit_step($1, $2, $3, $4)"
_DECIDE = "select private.decide_validation($1, $2, $3, $4, $5)"
_DETAIL = "select private.validation_detail($1)"


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except asyncpg.PostgresError as exc:
        if exc.sqlstate not in ("FX404", "FX409", "FX422", "FXV09"):
            raise
        raise Refused(exc.sqlstate, str(exc).splitlines()[0], getattr(exc, "column_name", None)) from None


async def submit(session: UserSession, step_id: UUID, message: str, document_ids: list[UUID]) -> dict[str, Any]:
    """The request's detail once submitted (see private.submit_step)."""
    with _refusals():
        row = await session.fetchrow(_SUBMIT, step_id, message, document_ids, session.request_id)
    assert row is not None  # a set-returning function that did not raise returned its one row
    detail: dict[str, Any] = row["detail"]
    return detail


async def decide(
    session: UserSession, request_id: UUID, decision: str, comment: str | None, expected_round: int | None
) -> dict[str, Any]:
    """The request's detail once decided (see private.decide_validation)."""
    with _refusals():
        detail: dict[str, Any] = await session.fetchval(
            _DECIDE, request_id, decision, comment, expected_round, session.request_id
        )
    return detail


async def detail(session: AnySession, request_id: UUID) -> dict[str, Any] | None:
    value: dict[str, Any] | None = await session.fetchval(_DETAIL, request_id)
    return value


def _filters(statement: Select[Any], *, client: bool, project: bool, source: Any = r) -> Select[Any]:
    if client:
        statement = statement.where(source.client_id == bindparam("client_id"))
    if project:
        statement = statement.where(source.project_id == bindparam("project_id"))
    return statement


def _hours_ago(name: str) -> ColumnElement[Any]:
    return func.now() - func.make_interval(0, 0, 0, 0, bindparam(name, type_=Integer))


@shaped
def _list(
    *, queue: bool, client: bool, project: bool, step: bool, status: bool, min_age: bool, max_age: bool, after: bool
) -> Select[Any]:
    """The queue (pending, oldest submission first) or a history (newest first)."""
    statement = _filters(_READ, client=client, project=project)
    if step:
        statement = statement.where(r.step_id == bindparam("step_id"))
    if status:
        statement = statement.where(r.status == bindparam("status"))
    if min_age:
        statement = statement.where(r.last_submitted_at <= _hours_ago("min_age"))
    if max_age:
        statement = statement.where(r.last_submitted_at >= _hours_ago("max_age"))
    if queue:
        return QUEUE.json_page(statement.where(r.status == "pending"), after=after)
    return HISTORY.json_page(statement, after=after)


async def list_requests_page(
    session: UserSession, *, queue: bool, filters: dict[str, Any], cursor: str | None, limit: int
) -> bytes:
    """A Page[ValidationRead] as JSON bytes; `filters` maps client, project, step, status, min_age,
    max_age to their value (None: not filtered)."""
    present = {name: value for name, value in filters.items() if value is not None}
    shape = {name: name in present for name in filters}
    keyset = QUEUE if queue else HISTORY
    rows = await _list(queue=queue, after=cursor is not None, **shape).fetch(
        session, **keyset.values(cursor, limit), **{_BIND[n]: v for n, v in present.items()}
    )
    return keyset.page_json(rows, limit)


_BIND = {
    "client": "client_id", "project": "project_id", "step": "step_id", "status": "status", "min_age": "min_age",
    "max_age": "max_age",
}  # fmt: skip


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return cast(func.count().filter(condition), Integer)


def _older_than(hours: int) -> ColumnElement[bool]:
    return r.last_submitted_at < func.now() - cast(literal(f"{hours} hours"), INTERVAL)


@shaped
def _counts(*, client: bool, project: bool) -> Select[Any]:
    pending = r.status == "pending"
    inner = validation_requests.alias("r2")
    per_client = _filters(
        select(inner.c.client_id, _clients.c.company_name, cast(func.count(), Integer).label("pending"))
        .join_from(inner, _clients, _clients.c.id == inner.c.client_id)
        .where(inner.c.status == "pending")
        .group_by(inner.c.client_id, _clients.c.company_name),
        client=client,
        project=project,
        source=inner.c,
    ).subquery("b")
    by_client = select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(per_client.table_valued(), per_client.c.pending.desc(), per_client.c.company_name)
            ),
            cast(literal("[]"), JSON),
        )
    ).scalar_subquery()
    statement = select(
        _count(pending).label("pending"),
        _count(r.status == "changes_requested").label("changes_requested"),
        _count(pending & _older_than(24)).label("pending_over_24h"),
        _count(pending & _older_than(72)).label("pending_over_72h"),
        func.min(r.last_submitted_at).filter(pending).label("oldest_pending_at"),
        by_client.label("by_client"),
    )
    return _filters(statement.select_from(validation_requests), client=client, project=project)


async def counts(session: UserSession, *, client_id: UUID | None, project_id: UUID | None) -> asyncpg.Record:
    values = {k: v for k, v in (("client_id", client_id), ("project_id", project_id)) if v is not None}
    row = await _counts(client=client_id is not None, project=project_id is not None).fetchrow(session, **values)
    assert row is not None  # an aggregate without GROUP BY returns one row
    return row


_OPEN_OF_STEP = compiled(select(r.id).where(r.step_id == bindparam("step_id"), _OPEN))
_CLOSE_OPEN = compiled(
    update(validation_requests)
    .where(r.project_id == func.any(bindparam("project_ids", type_=ARRAY(Uuid))), _OPEN)
    .values(status="closed", decided_at=func.now(), updated_at=func.now())
    .returning(r.id)
)


async def open_request_of_step(session: AnySession, step_id: UUID) -> UUID | None:
    request_id: UUID | None = await _OPEN_OF_STEP.fetchval(session, step_id=step_id)
    return request_id


async def close_open(session: AnySession, project_ids: list[UUID]) -> list[UUID]:
    return [row["id"] for row in await _CLOSE_OPEN.fetch(session, project_ids=project_ids)]
