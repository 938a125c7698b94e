"""Every query of the clients module. Hot reads return JSON rendered by Postgres."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Text, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from services.clients.tables import client_crm_profiles, clients
from services.core.db import AnySession, UserSession
from services.core.pagination import Keyset
from services.core.query import bound, compiled, shaped

c = clients.c
COLUMNS = (
    c.id, c.status, c.prospect_temperature, c.company_name, c.contact_first_name, c.contact_last_name,
    c.email, c.phone, c.city, c.siret, c.tags, c.archived_at, c.created_at, c.updated_at,
)  # fmt: skip
CRM_COLUMNS = ("photo_url", "birthday", "personal_notes", "background", "notes")
_CRM = tuple(client_crm_profiles.c[name] for name in CRM_COLUMNS)
SEARCH_TEXT = func.lower(
    c.company_name + " " + func.coalesce(c.contact_first_name, "") + " " + func.coalesce(c.contact_last_name, "")
    + " " + func.coalesce(c.email, "") + " " + func.coalesce(c.city, "")
)  # fmt: skip
SORTS: dict[str, tuple[ColumnElement[Any], type]] = {
    "created_at": (c.created_at, datetime),
    "updated_at": (c.updated_at, datetime),
    "company_name": (func.lower(c.company_name), str),
}


def _row_json(inner: Select[Any]) -> ColumnElement[str]:
    return cast(func.row_to_json(inner.subquery("t").table_valued()), Text)


# RLS hides the CRM row from members, so `crm` is null for them without a branch here.
_crm_json = (
    select(func.row_to_json(select(*_CRM).where(client_crm_profiles.c.client_id == c.id).subquery("p").table_valued()))
    .scalar_subquery()
    .label("crm")
)
_DETAIL_JSON = compiled(select(_row_json(select(*COLUMNS, _crm_json).where(c.id == bindparam("id")))))


async def detail_json(session: UserSession, client_id: UUID) -> str | None:
    value: str | None = await _DETAIL_JSON.fetchval(session, id=client_id)
    return value


def keyset(sort: str) -> Keyset:
    expression, kind = SORTS[sort.lstrip("-")]
    return Keyset(expression, c.id, kinds=(kind, UUID), descending=sort.startswith("-"))


@shaped
def _list(*, status: bool, temperature: bool, tag: bool, q: bool, sort: str, after: bool) -> Select[Any]:
    statement = select(*COLUMNS).where(c.status == bindparam("status") if status else c.status != "archived")
    if temperature:
        statement = statement.where(c.prospect_temperature == bindparam("temperature"))
    if tag:
        statement = statement.where(c.tags.contains(bindparam("tag", type_=ARRAY(Text))))
    if q:
        statement = statement.where(SEARCH_TEXT.like(bindparam("q"), escape="\\"))
    return keyset(sort).json_page(statement, after=after)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_page(
    session: UserSession,
    *,
    status: str | None,
    temperature: str | None,
    tag: str | None,
    q: str | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> bytes:
    """A Page[ClientRead] as JSON bytes, rendered by Postgres."""
    query = _list(
        status=status is not None, temperature=temperature is not None, tag=tag is not None, q=q is not None,
        sort=sort, after=cursor is not None,
    )  # fmt: skip
    page = keyset(sort)
    values: dict[str, Any] = page.values(cursor, limit)
    if status is not None:
        values["status"] = status
    if temperature is not None:
        values["temperature"] = temperature
    if tag is not None:
        values["tag"] = [tag]
    if q is not None:
        values["q"] = "%" + _escape_like(q.lower()) + "%"
    return page.page_json(await query.fetch(session, **values), limit)


_GET = compiled(select(*COLUMNS).where(c.id == bindparam("id")))
_GET_FOR_UPDATE = compiled(select(*COLUMNS).where(c.id == bindparam("id")).with_for_update())
_GET_CRM = compiled(select(*_CRM).where(client_crm_profiles.c.client_id == bindparam("id")))


async def get(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await _GET.fetchrow(session, id=client_id)


async def get_for_update(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await _GET_FOR_UPDATE.fetchrow(session, id=client_id)


async def get_crm(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await _GET_CRM.fetchrow(session, id=client_id)


@shaped
def _insert(names: tuple[str, ...]) -> Any:
    return insert(clients).values(bound(c, names)).returning(*COLUMNS)


async def insert_client(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _insert(tuple(values)).fetchrow(session, **values)
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


@shaped
def _update(names: tuple[str, ...]) -> Any:
    assignments: dict[str, Any] = bound(c, names)
    return (
        update(clients).where(c.id == bindparam("client_id")).values(updated_at=func.now(), **assignments)
        .returning(*COLUMNS)
    )  # fmt: skip


async def update_client(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update(tuple(values)).fetchrow(session, client_id=client_id, **values)
    assert row is not None  # callers lock or read the row first
    return row


@shaped
def _upsert_crm(names: tuple[str, ...]) -> Any:
    crm = client_crm_profiles.c
    statement = pg_insert(client_crm_profiles).values(client_id=bindparam("client_id"), **bound(crm, names))
    changes: dict[str, Any] = {n: statement.excluded[n] for n in names} or {"client_id": statement.excluded.client_id}
    return statement.on_conflict_do_update(
        index_elements=[crm.client_id], set_={**changes, "updated_at": func.now()}
    ).returning(*_CRM)


async def upsert_crm(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _upsert_crm(tuple(values)).fetchrow(session, client_id=client_id, **values)
    assert row is not None
    return row


_STATUS_BEFORE_ARCHIVE = compiled(select(c.status_before_archive).where(c.id == bindparam("id")))
_FIND_BY_COMPANY_AND_TAG = compiled(
    select(c.id).where(c.company_name == bindparam("company"), bindparam("tag", type_=Text) == func.any(c.tags))
)


async def status_before_archive(session: AnySession, client_id: UUID) -> str | None:
    value: str | None = await _STATUS_BEFORE_ARCHIVE.fetchval(session, id=client_id)
    return value


_BY_EMAIL = compiled(
    select(*COLUMNS).where(func.lower(c.email) == func.lower(bindparam("email"))).order_by(c.created_at, c.id).limit(1)
)


async def find_by_email(session: AnySession, email: str) -> asyncpg.Record | None:
    return await _BY_EMAIL.fetchrow(session, email=email)


async def find_by_company_and_tag(session: AnySession, company_name: str, tag: str) -> UUID | None:
    value: UUID | None = await _FIND_BY_COMPANY_AND_TAG.fetchval(session, company=company_name, tag=tag)
    return value
