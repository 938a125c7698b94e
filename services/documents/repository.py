"""Every query of the documents module. The list is JSON rendered by Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession, ServiceSession
from services.core.sql import Params, insert_returning, update_returning
from services.documents.errors import DocumentInvalid

VERSION_COLUMNS = "id, version, file_name, size_bytes, mime_type, sha256, uploaded_by, created_at"
BASE_COLUMNS = (
    "id, client_id, project_id, title, tags, document_type, visibility, source, status, phase,"
    " is_homework, homework_due_at, homework_completed, homework_completed_at"
)
TAIL_COLUMNS = "archived_at, created_by, created_at, updated_at"
# The columns of DocumentRead, in order, from `public.documents d`.
_READ = (
    f"{BASE_COLUMNS}, (select {{fn}}(v) from (select {VERSION_COLUMNS} from public.document_versions"
    f" where id = d.current_version_id) v) as current_version, {TAIL_COLUMNS}"
)
READ_JSON, READ_RECORD = _READ.format(fn="row_to_json"), _READ.format(fn="to_jsonb")

SORT_EXPRESSIONS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "title": "lower(title)",
    "homework_due_at": "coalesce(homework_due_at, '9999-12-31T00:00:00Z'::timestamptz)",
}
SORT_CASTS = {
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "title": "text",
    "homework_due_at": "timestamptz",
}
_OPEN_HOMEWORK = "document_type = 'devoir' and not homework_completed"
HOMEWORK = {
    "due": f"{_OPEN_HOMEWORK} and (homework_due_at is null or homework_due_at >= now())",
    "overdue": f"{_OPEN_HOMEWORK} and homework_due_at < now()",
    "completed": "document_type = 'devoir' and homework_completed",
}


@dataclass(frozen=True, slots=True)
class Filters:
    client_id: UUID | None = None
    project_id: UUID | None = None
    document_type: str | None = None
    tag: str | None = None
    source: str | None = None
    visibility: str | None = None
    status: str | None = None
    phase: str | None = None
    homework: str | None = None
    q: str | None = None
    archived: bool = False


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: Filters, arg: Params, *, with_type: bool = True) -> list[str]:
    conditions = ["archived_at is not null" if f.archived else "archived_at is null"]
    for column in ("client_id", "project_id", "source", "visibility", "status", "phase"):
        value = getattr(f, column)
        if value is not None:
            conditions.append(f"{column} = {arg.add(value)}")
    if with_type and f.document_type:
        conditions.append(f"document_type = {arg.add(f.document_type)}")
    if with_type and f.homework:
        conditions.append(HOMEWORK[f.homework])
    if f.tag:
        conditions.append(f"tags @> array[{arg.add(f.tag)}]::text[]")
    if f.q:
        pattern = arg.add("%" + _escape_like(f.q.lower()) + "%")
        conditions.append(f"private.document_search_text(title, tags) like {pattern}")
    return conditions


async def list_json(
    session: AnySession, f: Filters, *, sort: str, after: list[Any] | None, limit: int
) -> list[asyncpg.Record]:
    """Rows as (json, sort key, id), limit + 1 of them so the caller knows if a next page exists."""
    arg = Params()
    conditions = _conditions(f, arg)
    field = sort.lstrip("-")
    expression, descending = SORT_EXPRESSIONS[field], sort.startswith("-")
    if after is not None:
        op = "<" if descending else ">"
        key, last_id = arg.add(after[0]), arg.add(after[1])
        conditions.append(f"({expression}, id) {op} ({key}::{SORT_CASTS[field]}, {last_id}::uuid)")
    direction = "desc" if descending else "asc"
    order = f"{expression} {direction}, id {direction}"
    return await session.fetch(
        f"select row_to_json(t)::text as json, {expression} as sort_key, id from ("
        f"select {READ_JSON} from public.documents d where {' and '.join(conditions)}"
        f" order by {order} limit {arg.add(limit + 1)}) t order by {order}",
        *arg.values,
    )


async def counts(session: AnySession, f: Filters) -> asyncpg.Record:
    arg = Params()
    where = " and ".join(_conditions(f, arg, with_type=False))
    types = ", ".join(
        f"count(*) filter (where document_type = '{t}') as {t}" for t in ("livrable", "ressource", "devoir", "archive")
    )
    homework = ", ".join(f"count(*) filter (where {cond}) as {name}" for name, cond in HOMEWORK.items())
    row = await session.fetchrow(
        f"select count(*) as total, {types}, {homework} from public.documents where {where}", *arg.values
    )
    assert row is not None
    return row


async def get(session: AnySession, document_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " for update of d" if for_update else ""
    return await session.fetchrow(f"select {READ_RECORD} from public.documents d where id = $1{lock}", document_id)


@contextmanager
def _project_checked() -> Iterator[None]:
    try:
        yield
    except asyncpg.ForeignKeyViolationError as exc:
        # documents_project_fk (0030) is composite: a project of the document's own client.
        if exc.constraint_name == "documents_project_fk":
            raise DocumentInvalid("no such project for this client", field="project_id") from None
        raise


async def insert(session: AnySession, values: dict[str, Any]) -> None:
    with _project_checked():
        await insert_returning(session, "public.documents", values, "id")


async def update(session: AnySession, document_id: UUID, values: dict[str, Any]) -> None:
    with _project_checked():
        await update_returning(session, "public.documents", "id = $1", (document_id,), values, "id")


async def delete(session: AnySession, document_id: UUID) -> None:
    await session.execute("delete from public.documents where id = $1", document_id)


# ---------------------------------------------------------------- versions


async def next_version(session: AnySession, document_id: UUID) -> int:
    value: int = await session.fetchval("select private.next_document_version($1)", document_id)
    return value


async def insert_version(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.document_versions", values, VERSION_COLUMNS)


async def list_versions(session: AnySession, document_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {VERSION_COLUMNS} from public.document_versions where document_id = $1 order by version desc",
        document_id,
    )


async def get_version(session: AnySession, document_id: UUID, version: int | None) -> asyncpg.Record | None:
    """A version by number, or the current one."""
    if version is None:
        return await session.fetchrow(
            f"select v.storage_path, {', '.join('v.' + c.strip() for c in VERSION_COLUMNS.split(','))}"
            " from public.document_versions v join public.documents d on d.current_version_id = v.id"
            " where d.id = $1",
            document_id,
        )
    return await session.fetchrow(
        f"select storage_path, {VERSION_COLUMNS} from public.document_versions where document_id = $1 and version = $2",
        document_id,
        version,
    )


async def storage_paths(session: AnySession, document_id: UUID) -> list[str]:
    """Every object the document has or may have: its versions and its pending uploads."""
    rows = await session.fetch(
        "select storage_path from public.document_versions where document_id = $1"
        " union select storage_path from public.document_uploads where document_id = $1",
        document_id,
    )
    return [r["storage_path"] for r in rows]


# ---------------------------------------------------------------- pending uploads

UPLOAD_COLUMNS = (
    "id, client_id, document_id, is_new_document, version, storage_path, file_name, size_bytes,"
    " mime_type, sha256, document, created_by, expires_at, created_at"
)


async def insert_upload(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.document_uploads", values, UPLOAD_COLUMNS)


async def get_upload_for_update(session: AnySession, upload_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        f"select {UPLOAD_COLUMNS} from public.document_uploads where id = $1 for update", upload_id
    )


async def delete_upload(session: AnySession, upload_id: UUID) -> None:
    await session.execute("delete from public.document_uploads where id = $1", upload_id)


async def lock_uploads_of(session: AnySession, document_id: UUID) -> None:
    """Lock a document's pending uploads before the document itself: the order confirm takes them in."""
    await session.execute("select 1 from public.document_uploads where document_id = $1 for update", document_id)


async def delete_uploads_of(session: AnySession, document_id: UUID) -> None:
    await session.execute("delete from public.document_uploads where document_id = $1", document_id)


async def expired_uploads(session: ServiceSession, *, grace_seconds: int, limit: int) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {UPLOAD_COLUMNS} from public.document_uploads"
        " where expires_at < now() - make_interval(secs => $1) order by expires_at limit $2"
        " for update skip locked",
        grace_seconds,
        limit,
    )


async def delete_uploads(session: ServiceSession, upload_ids: list[UUID]) -> None:
    await session.execute("delete from public.document_uploads where id = any($1::uuid[])", upload_ids)
