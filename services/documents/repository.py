"""Every query of the documents module. The list is JSON rendered by Postgres; confirming an upload is
one call of private.confirm_document_upload (migration 0045)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from sqlalchemy import (
    DateTime,
    Interval,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from services.core.db import AnySession, ServiceSession, UserSession
from services.core.pagination import Keyset
from services.core.query import bound, compiled, shaped
from services.documents.errors import DocumentArchived, DocumentInvalid, DocumentNotFound, UploadNotFound
from services.documents.tables import document_uploads, document_versions, documents

d, v, u = documents.c, document_versions.c, document_uploads.c

VERSION_COLUMNS = (v.id, v.version, v.file_name, v.size_bytes, v.mime_type, v.sha256, v.uploaded_by, v.created_at)


def _current_version(render: Any) -> ColumnElement[Any]:
    # Correlated to the outer documents row (a derived table would otherwise list documents in its FROM).
    version = select(*VERSION_COLUMNS).where(v.id == d.current_version_id).correlate(documents).subquery("v")
    return select(render(version.table_valued())).scalar_subquery().label("current_version")


def _read(render: Any) -> tuple[ColumnElement[Any], ...]:
    """The columns of DocumentRead, in order; `render` turns the current version's row into JSON."""
    return (
        d.id, d.client_id, d.project_id, d.title, d.tags, d.document_type, d.visibility, d.source, d.status,
        d.phase, d.is_homework, d.homework_due_at, d.homework_completed, d.homework_completed_at,
        _current_version(render), d.archived_at, d.created_by, d.created_at, d.updated_at,
    )  # fmt: skip


READ_JSON, READ_RECORD = _read(func.row_to_json), _read(func.to_jsonb)


def _const(text: str) -> ColumnElement[Any]:
    """A fixed SQL literal, not a bind: the partial index on open homework is matched on it."""
    return literal_column(f"'{text}'")


_NO_DUE_DATE = literal_column("'9999-12-31T00:00:00Z'::timestamptz", DateTime(timezone=True))
SORTS: dict[str, tuple[ColumnElement[Any], type]] = {
    "created_at": (d.created_at, datetime),
    "updated_at": (d.updated_at, datetime),
    "title": (func.lower(d.title), str),
    "homework_due_at": (func.coalesce(d.homework_due_at, _NO_DUE_DATE), datetime),
}
TYPES = ("livrable", "ressource", "devoir", "archive")
_HOMEWORK = d.document_type == _const("devoir")
_OPEN_HOMEWORK = and_(_HOMEWORK, not_(d.homework_completed))
HOMEWORK: dict[str, ColumnElement[bool]] = {
    "due": and_(_OPEN_HOMEWORK, or_(d.homework_due_at.is_(None), d.homework_due_at >= func.now())),
    "overdue": and_(_OPEN_HOMEWORK, d.homework_due_at < func.now()),
    "completed": and_(_HOMEWORK, d.homework_completed),
}
_EQUAL_FILTERS = ("client_id", "project_id", "source", "visibility", "status", "phase")


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


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a query has (never their values): the key its compiled statement is cached by."""

    equal: tuple[str, ...]
    document_type: bool
    homework: str | None
    tag: bool
    q: bool
    archived: bool


def _shape(f: Filters, *, with_type: bool) -> _Shape:
    return _Shape(
        equal=tuple(name for name in _EQUAL_FILTERS if getattr(f, name) is not None),
        document_type=with_type and f.document_type is not None,
        homework=f.homework if with_type else None,
        tag=bool(f.tag),
        q=bool(f.q),
        archived=f.archived,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(statement: Select[Any], shape: _Shape) -> Select[Any]:
    statement = statement.where(d.archived_at.is_not(None) if shape.archived else d.archived_at.is_(None))
    for name in shape.equal:
        statement = statement.where(d[name] == bindparam(name, type_=d[name].type))
    if shape.document_type:
        statement = statement.where(d.document_type == bindparam("document_type"))
    if shape.homework:
        statement = statement.where(HOMEWORK[shape.homework])
    if shape.tag:
        statement = statement.where(d.tags.contains(bindparam("tag", type_=ARRAY(Text))))
    if shape.q:
        search = func.private.document_search_text(d.title, d.tags)
        statement = statement.where(search.like(bindparam("q"), escape="\\"))
    return statement


def _values(f: Filters, shape: _Shape) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(f, name) for name in shape.equal}
    if shape.document_type:
        values["document_type"] = f.document_type
    if shape.tag:
        values["tag"] = [f.tag]
    if shape.q:
        assert f.q is not None
        values["q"] = "%" + _escape_like(f.q.lower()) + "%"
    return values


def keyset(sort: str) -> Keyset:
    expression, kind = SORTS[sort.lstrip("-")]
    return Keyset(expression, d.id, kinds=(kind, UUID), descending=sort.startswith("-"))


@shaped
def _list(shape: _Shape, *, sort: str, after: bool) -> Select[Any]:
    return keyset(sort).json_page(_where(select(*READ_JSON), shape), after=after)


async def list_page(session: UserSession, f: Filters, *, sort: str, cursor: str | None, limit: int) -> bytes:
    """A Page[DocumentRead] as JSON bytes, rendered by Postgres."""
    shape, page = _shape(f, with_type=True), keyset(sort)
    query = _list(shape, sort=sort, after=cursor is not None)
    rows = await query.fetch(session, **page.values(cursor, limit), **_values(f, shape))
    return page.page_json(rows, limit)


@shaped
def _counts(shape: _Shape) -> Select[Any]:
    by_type = [func.count().filter(d.document_type == _const(t)).label(t) for t in TYPES]
    homework = [func.count().filter(condition).label(name) for name, condition in HOMEWORK.items()]
    columns: list[ColumnElement[Any]] = [func.count().label("total"), *by_type, *homework]
    return _where(select(*columns).select_from(documents), shape)


async def counts(session: AnySession, f: Filters) -> asyncpg.Record:
    shape = _shape(f, with_type=False)
    row = await _counts(shape).fetchrow(session, **_values(f, shape))
    assert row is not None  # an aggregate without GROUP BY always returns its row
    return row


_GET = compiled(select(*READ_RECORD).where(d.id == bindparam("id")))
_GET_FOR_UPDATE = compiled(select(*READ_RECORD).where(d.id == bindparam("id")).with_for_update(of=documents))


async def get(session: AnySession, document_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_FOR_UPDATE if for_update else _GET).fetchrow(session, id=document_id)


@contextmanager
def _project_checked() -> Iterator[None]:
    try:
        yield
    except asyncpg.ForeignKeyViolationError as exc:
        # documents_project_fk (0030) is composite: a project of the document's own client.
        if exc.constraint_name == "documents_project_fk":
            raise DocumentInvalid("no such project for this client", field="project_id") from None
        raise


@shaped
def _insert(names: tuple[str, ...]) -> Any:
    return insert(documents).values(bound(d, names))


async def insert_document(session: AnySession, values: dict[str, Any]) -> None:
    with _project_checked():
        await _insert(tuple(values)).execute(session, **values)


@shaped
def _update(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(d, names)
    return update(documents).where(d.id == bindparam("document_id")).values(updated_at=func.now(), **assignments)


async def update_document(session: AnySession, document_id: UUID, values: dict[str, Any]) -> None:
    with _project_checked():
        await _update(tuple(values)).execute(session, document_id=document_id, **values)


_DELETE = compiled(delete(documents).where(d.id == bindparam("id")))


async def delete_document(session: AnySession, document_id: UUID) -> None:
    await _DELETE.execute(session, id=document_id)


# ---------------------------------------------------------------- versions

_NEXT_VERSION = "select private.next_document_version($1)"
_VERSION_VALUES = (
    "document_id", "client_id", "version", "storage_path", "file_name", "size_bytes", "mime_type", "sha256",
    "uploaded_by",
)  # fmt: skip
_INSERT_VERSION = compiled(insert(document_versions).values(bound(v, _VERSION_VALUES)).returning(v.id))
_LIST_VERSIONS = compiled(select(*VERSION_COLUMNS).where(v.document_id == bindparam("id")).order_by(v.version.desc()))
_CURRENT_VERSION = compiled(
    select(v.storage_path, *VERSION_COLUMNS)
    .select_from(document_versions.join(documents, d.current_version_id == v.id))
    .where(d.id == bindparam("id"))
)
_VERSION = compiled(
    select(v.storage_path, *VERSION_COLUMNS).where(v.document_id == bindparam("id"), v.version == bindparam("version"))
)
_STORAGE_PATHS = compiled(
    union(
        select(v.storage_path).where(v.document_id == bindparam("id", type_=Uuid)),
        select(u.storage_path).where(u.document_id == bindparam("id", type_=Uuid)),
    )
)


async def next_version(session: AnySession, document_id: UUID) -> int:
    value: int = await session.fetchval(_NEXT_VERSION, document_id)
    return value


async def insert_version(session: AnySession, values: dict[str, Any]) -> UUID:
    """The new version's id."""
    value: UUID = await _INSERT_VERSION.fetchval(session, **values)
    return value


async def list_versions(session: AnySession, document_id: UUID) -> list[asyncpg.Record]:
    return await _LIST_VERSIONS.fetch(session, id=document_id)


async def get_version(session: AnySession, document_id: UUID, version: int | None) -> asyncpg.Record | None:
    """A version by number, or the current one."""
    if version is None:
        return await _CURRENT_VERSION.fetchrow(session, id=document_id)
    return await _VERSION.fetchrow(session, id=document_id, version=version)


async def storage_paths(session: AnySession, document_id: UUID) -> list[str]:
    """Every object the document has or may have: its versions and its pending uploads."""
    return [r["storage_path"] for r in await _STORAGE_PATHS.fetch(session, id=document_id)]


# ---------------------------------------------------------------- pending uploads

UPLOAD_COLUMNS = (
    u.id, u.client_id, u.document_id, u.is_new_document, u.version, u.storage_path, u.file_name, u.size_bytes,
    u.mime_type, u.sha256, u.document, u.created_by, u.expires_at, u.created_at,
)  # fmt: skip
_UPLOAD_VALUES = tuple(c.name for c in UPLOAD_COLUMNS if c.name not in ("id", "created_at"))
_INSERT_UPLOAD = compiled(insert(document_uploads).values(bound(u, _UPLOAD_VALUES)).returning(u.id))
_GET_UPLOAD = compiled(select(*UPLOAD_COLUMNS).where(u.id == bindparam("id")))
_GET_UPLOAD_FOR_UPDATE = compiled(select(*UPLOAD_COLUMNS).where(u.id == bindparam("id")).with_for_update())
_DELETE_UPLOAD = compiled(delete(document_uploads).where(u.id == bindparam("id")))
_LOCK_UPLOADS_OF = compiled(select(u.id).where(u.document_id == bindparam("id")).with_for_update())
_DELETE_UPLOADS_OF = compiled(delete(document_uploads).where(u.document_id == bindparam("id")))
_EXPIRED_UPLOADS = compiled(
    select(*UPLOAD_COLUMNS)
    .where(u.expires_at < func.now() - bindparam("grace", type_=Interval))
    .order_by(u.expires_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_DELETE_UPLOADS = compiled(delete(document_uploads).where(u.id == func.any(bindparam("ids", type_=ARRAY(Uuid)))))
# The new document's columns are sent as JSON text: the jsonb codec cannot encode asyncpg's own UUIDs.
_CONFIRM = "select private.confirm_document_upload($1, $2, $3, $4::text::jsonb, $5)::text"


async def insert_upload(session: AnySession, values: dict[str, Any]) -> UUID:
    """The pending upload's id."""
    value: UUID = await _INSERT_UPLOAD.fetchval(session, **values)
    return value


async def get_upload(session: AnySession, upload_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await (_GET_UPLOAD_FOR_UPDATE if for_update else _GET_UPLOAD).fetchrow(session, id=upload_id)


async def delete_upload(session: AnySession, upload_id: UUID) -> None:
    await _DELETE_UPLOAD.execute(session, id=upload_id)


async def lock_uploads_of(session: AnySession, document_id: UUID) -> None:
    """Lock a document's pending uploads before the document itself: the order confirm takes them in."""
    await _LOCK_UPLOADS_OF.execute(session, id=document_id)


async def delete_uploads_of(session: AnySession, document_id: UUID) -> None:
    await _DELETE_UPLOADS_OF.execute(session, id=document_id)


async def expired_uploads(session: ServiceSession, *, grace: timedelta, limit: int) -> list[asyncpg.Record]:
    return await _EXPIRED_UPLOADS.fetch(session, grace=grace, limit=limit)


async def delete_uploads(session: ServiceSession, upload_ids: list[UUID]) -> None:
    await _DELETE_UPLOADS.execute(session, ids=upload_ids)


def _json_text(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


async def confirm_upload(
    session: UserSession, upload_id: UUID, *, size_bytes: int, sha256: str, document: dict[str, Any] | None
) -> str:
    """Record the upload's version (and create its new document, from `document`) in one statement that
    locks the pending upload, then its document; the DocumentRead JSON it answers."""
    try:
        with _project_checked():
            value: str = await session.fetchval(
                _CONFIRM, upload_id, size_bytes, sha256, _json_text(document), session.request_id
            )
    except asyncpg.PostgresError as exc:
        # A concurrent confirm, cancel, erasure or archive got there between the checks and this call.
        if exc.sqlstate == "FX404":
            raise (UploadNotFound() if exc.detail == "upload" else DocumentNotFound()) from None
        if exc.sqlstate == "FX409":
            raise DocumentArchived("the document is archived: restore it first") from None
        raise
    return value


# ---------------------------------------------------------------- homework due soon (the reminders engine)

_DUE_KEY = tuple_(d.homework_due_at, d.id)


@shaped
def _homework_due(*, after: bool) -> Select[Any]:
    """Open, shared, unarchived homework due in (start, end], by due time (the partial index's order)."""
    statement = select(d.id, d.client_id, d.title, d.homework_due_at).where(
        _OPEN_HOMEWORK,
        d.archived_at.is_(None),
        d.visibility == _const("shared"),
        d.homework_due_at > bindparam("start"),
        d.homework_due_at <= bindparam("end"),
    )
    if after:
        statement = statement.where(_DUE_KEY > tuple_(bindparam("after_due"), bindparam("after_id", type_=Uuid)))
    return statement.order_by(d.homework_due_at, d.id).limit(bindparam("limit"))


async def homework_due_between(
    session: ServiceSession, start: datetime, end: datetime, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    keys = {} if after is None else {"after_due": after[0], "after_id": after[1]}
    return await _homework_due(after=after is not None).fetch(session, start=start, end=end, limit=limit, **keys)
