"""Every query of the clients module. Hot reads return JSON rendered by Postgres."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.core.db import AnySession, UserSession
from services.core.sql import Params, insert_returning, update_returning

COLUMNS = (
    "id, status, prospect_temperature, company_name, contact_first_name, contact_last_name, email,"
    " phone, city, siret, tags, archived_at, created_at, updated_at"
)
CRM_COLUMNS = ("photo_url", "birthday", "personal_notes", "background", "notes")
SEARCH_EXPRESSION = (
    "lower(company_name || ' ' || coalesce(contact_first_name, '') || ' ' ||"
    " coalesce(contact_last_name, '') || ' ' || coalesce(email, '') || ' ' ||"
    " coalesce(city, ''))"
)
SORT_EXPRESSIONS = {"created_at": "created_at", "updated_at": "updated_at", "company_name": "lower(company_name)"}
SORT_CASTS = {"created_at": "timestamptz", "updated_at": "timestamptz", "company_name": "text"}
SORT_KINDS: dict[str, type] = {"created_at": datetime, "updated_at": datetime, "company_name": str}

# RLS hides the CRM row from members, so `crm` is null for them without a branch here.
DETAIL_JSON = f"""
select row_to_json(t)::text from (
  select {COLUMNS},
    (select row_to_json(p) from (select {", ".join(CRM_COLUMNS)} from public.client_crm_profiles
       where client_id = c.id) p) as crm
  from public.clients c where c.id = $1) t"""


async def detail_json(session: UserSession, client_id: UUID) -> str | None:
    value: str | None = await session.fetchval(DETAIL_JSON, client_id)
    return value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_query(
    *,
    status: str | None,
    temperature: str | None,
    tag: str | None,
    q: str | None,
    sort: str,
    after: list[Any] | None,
    limit: int,
) -> tuple[str, list[Any]]:
    """SQL returning (json, sort_key, id) rows, limit + 1 of them so the caller knows if a page follows."""
    params, conditions = Params(), []
    arg = params.add
    conditions.append(f"status = {arg(status)}" if status else "status <> 'archived'")
    if temperature:
        conditions.append(f"prospect_temperature = {arg(temperature)}")
    if tag:
        conditions.append(f"tags @> array[{arg(tag)}]::text[]")
    if q:
        conditions.append(f"{SEARCH_EXPRESSION} like {arg('%' + _escape_like(q.lower()) + '%')}")
    field = sort.lstrip("-")
    expression, descending = SORT_EXPRESSIONS[field], sort.startswith("-")
    if after is not None:
        op = "<" if descending else ">"
        conditions.append(f"({expression}, id) {op} ({arg(after[0])}::{SORT_CASTS[field]}, {arg(after[1])}::uuid)")
    direction = "desc" if descending else "asc"
    order = f"{expression} {direction}, id {direction}"
    sql = (
        f"select row_to_json(t)::text as json, {expression} as sort_key, id from ("
        f"select {COLUMNS} from public.clients where {' and '.join(conditions)}"
        f" order by {order} limit {arg(limit + 1)}) t order by {order}"
    )
    return sql, params.values


async def list_json(session: UserSession, **filters: Any) -> list[asyncpg.Record]:
    sql, args = list_query(**filters)
    return await session.fetch(sql, *args)


async def get(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(f"select {COLUMNS} from public.clients where id = $1", client_id)


async def get_for_update(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(f"select {COLUMNS} from public.clients where id = $1 for update", client_id)


async def get_crm(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        f"select {', '.join(CRM_COLUMNS)} from public.client_crm_profiles where client_id = $1", client_id
    )


async def insert(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    return await insert_returning(session, "public.clients", values, COLUMNS)


async def update(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await update_returning(session, "public.clients", "id = $1", (client_id,), values, COLUMNS)
    assert row is not None  # callers lock or read the row first
    return row


async def upsert_crm(session: AnySession, client_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    names = list(values)
    placeholders = ", ".join(f"${i}" for i in range(2, len(names) + 2))
    updates = ", ".join(f"{n} = excluded.{n}" for n in names) or "client_id = excluded.client_id"
    row = await session.fetchrow(
        f"insert into public.client_crm_profiles (client_id{''.join(', ' + n for n in names)})"
        f" values ($1{', ' if names else ''}{placeholders}) on conflict (client_id) do update set {updates},"
        f" updated_at = now() returning {', '.join(CRM_COLUMNS)}",
        client_id,
        *values.values(),
    )
    assert row is not None
    return row


async def status_before_archive(session: AnySession, client_id: UUID) -> str | None:
    value: str | None = await session.fetchval(
        "select status_before_archive from public.clients where id = $1", client_id
    )
    return value


async def find_by_company_and_tag(session: AnySession, company_name: str, tag: str) -> UUID | None:
    value: UUID | None = await session.fetchval(
        "select id from public.clients where company_name = $1 and $2 = any(tags)", company_name, tag
    )
    return value
