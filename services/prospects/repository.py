"""Every query of the prospects module."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.core.db import AnySession
from services.core.query import compiled
from services.prospects.tables import client_companies, prospect_statuses

k = client_companies.c
s = prospect_statuses.c
COMPANY_COLUMNS = (
    k.client_id, k.siret, k.siren, k.lookup_status, k.source, k.legal_name, k.address_lines, k.postal_code, k.city,
    k.naf_code, k.creation_date, k.headcount_bracket, k.headcount_label, k.vat_number, k.looked_up_at, k.updated_at,
)  # fmt: skip
_WRITTEN = [column for column in COMPANY_COLUMNS if column.name != "updated_at"]
_UPSERT_COMPANY = pg_insert(client_companies).values({c.name: bindparam(c.name, type_=c.type) for c in _WRITTEN})
_SAVE_COMPANY = compiled(
    _UPSERT_COMPANY.on_conflict_do_update(
        index_elements=[k.client_id],
        set_={**{c.name: _UPSERT_COMPANY.excluded[c.name] for c in _WRITTEN[1:]}, "updated_at": func.now()},
    ).returning(*COMPANY_COLUMNS)
)
_GET_COMPANY = compiled(select(*COMPANY_COLUMNS).where(k.client_id == bindparam("client_id")))
STATUS_COLUMNS = (s.id, s.client_id, s.temperature, s.note, s.set_by, s.created_at)
_INSERT_STATUS = compiled(
    insert(prospect_statuses)
    .values({c.name: bindparam(c.name, type_=c.type) for c in (s.client_id, s.temperature, s.note, s.set_by)})
    .returning(*STATUS_COLUMNS)
)


async def save_company(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _SAVE_COMPANY.fetchrow(session, **values)
    assert row is not None
    return row


async def get_company(session: AnySession, client_id: UUID) -> asyncpg.Record | None:
    return await _GET_COMPANY.fetchrow(session, client_id=client_id)


async def insert_status(session: AnySession, values: dict[str, Any]) -> asyncpg.Record:
    row = await _INSERT_STATUS.fetchrow(session, **values)
    assert row is not None
    return row
