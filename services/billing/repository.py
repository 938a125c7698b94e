"""Every query of the billing module. Most statements are generic over the module's tables (get one row,
insert, partial update, lookup by Pennylane id), each compiled once per shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from services.billing.tables import (
    billing_customers,
    billing_invoice_lines,
    billing_invoices,
    billing_payments,
    billing_products,
    billing_quote_acceptances,
    billing_quote_lines,
    billing_quotes,
    billing_subscriptions,
)
from services.core.db import AnySession
from services.core.pagination import Keyset
from services.core.query import bound, compiled, shaped

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        billing_customers, billing_products, billing_quotes, billing_quote_lines, billing_invoices,
        billing_invoice_lines, billing_payments, billing_subscriptions, billing_quote_acceptances,
    )
}  # fmt: skip
_KEYS = {"billing_customers": "client_id"}
i, q, s, pay = billing_invoices.c, billing_quotes.c, billing_subscriptions.c, billing_payments.c
_BALANCE = (i.amount - i.paid_amount).label("balance")
QUOTE_KEYSET = Keyset(q.created_at, q.id, kinds=(datetime, UUID), descending=True)
INVOICE_KEYSET = Keyset(i.created_at, i.id, kinds=(datetime, UUID), descending=True)
SUBSCRIPTION_KEYSET = Keyset(s.created_at, s.id, kinds=(datetime, UUID), descending=True)
PAYMENT_KEYSET = Keyset(pay.created_at, pay.id, kinds=(datetime, UUID), descending=True)
KEYSETS = {
    "billing_quotes": QUOTE_KEYSET, "billing_invoices": INVOICE_KEYSET, "billing_subscriptions": SUBSCRIPTION_KEYSET,
    "billing_payments": PAYMENT_KEYSET,
}  # fmt: skip


def _columns(table: Table) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = list(table.columns)
    return [*columns, _BALANCE] if table is billing_invoices else columns


# ---------------------------------------------------------------- generic row access


@shaped
def _get(table: str, key: str, lock: bool) -> Select[Any]:
    t = TABLES[table]
    statement = select(*_columns(t)).where(t.c[key] == bindparam("key", type_=t.c[key].type))
    return statement.with_for_update() if lock else statement


async def get(session: AnySession, table: str, key: object, *, by: str | None = None, lock: bool = False) -> Any:
    """One row of `table` by its primary key (or by `by`, e.g. pennylane_id); None when RLS hides it."""
    return await _get(table, by or _KEYS.get(table, "id"), lock).fetchrow(session, key=key)


@shaped
def _insert(table: str, names: tuple[str, ...]) -> Any:
    t = TABLES[table]
    values = bound(t.c, names)
    return insert(t).values(values).returning(*_columns(t))


async def insert_row(session: AnySession, table: str, values: dict[str, Any]) -> asyncpg.Record:
    row = await _insert(table, tuple(values)).fetchrow(session, **values)
    assert row is not None
    return row


@shaped
def _update(table: str, key: str, names: tuple[str, ...]) -> Any:
    t = TABLES[table]
    values: dict[str, Any] = bound(t.c, names)
    if "updated_at" in t.c:
        values["updated_at"] = func.now()
    return update(t).where(t.c[key] == bindparam("key_", type_=t.c[key].type)).values(values).returning(*_columns(t))


async def update_row(
    session: AnySession, table: str, key: object, values: dict[str, Any], *, by: str | None = None
) -> asyncpg.Record | None:
    """Update the row (None when it does not exist or RLS hides it)."""
    return await _update(table, by or _KEYS.get(table, "id"), tuple(values)).fetchrow(session, key_=key, **values)


@shaped
def _upsert(table: str, conflict: str, names: tuple[str, ...]) -> Any:
    t = TABLES[table]
    statement = pg_insert(t).values(bound(t.c, names))
    changes: dict[str, Any] = {n: statement.excluded[n] for n in names if n != conflict}
    if "updated_at" in t.c:
        changes["updated_at"] = func.now()
    return statement.on_conflict_do_update(index_elements=[t.c[conflict]], set_=changes).returning(*_columns(t))


async def upsert_row(session: AnySession, table: str, conflict: str, values: dict[str, Any]) -> asyncpg.Record:
    """Insert, or update the row already holding `values[conflict]` (client_id, pennylane_id)."""
    row = await _upsert(table, conflict, tuple(values)).fetchrow(session, **values)
    assert row is not None
    return row


@shaped
def _ids_by_pennylane(table: str) -> Select[Any]:
    t = TABLES[table]
    return select(t.c.pennylane_id, t.c.id).where(
        t.c.pennylane_id == func.any(bindparam("ids", type_=ARRAY(t.c.pennylane_id.type)))
    )


async def ids_by_pennylane(session: AnySession, table: str, pennylane_ids: list[int]) -> dict[int, UUID]:
    """Foxeo ids of rows mirrored from these Pennylane ids (missing ones are left out)."""
    if not pennylane_ids:
        return {}
    rows = await _ids_by_pennylane(table).fetch(session, ids=pennylane_ids)
    return {row["pennylane_id"]: row["id"] for row in rows}


# ---------------------------------------------------------------- lines


@shaped
def _lines(table: str, parent: str) -> Select[Any]:
    t = TABLES[table]
    return select(*t.columns).where(t.c[parent] == bindparam("parent", type_=t.c[parent].type)).order_by(t.c.position)


@shaped
def _delete_lines(table: str, parent: str) -> Any:
    t = TABLES[table]
    return delete(t).where(t.c[parent] == bindparam("parent", type_=t.c[parent].type))


def _line_table(parent: str) -> str:
    return "billing_quote_lines" if parent == "quote_id" else "billing_invoice_lines"


async def lines(session: AnySession, parent: str, parent_id: UUID) -> list[asyncpg.Record]:
    return await _lines(_line_table(parent), parent).fetch(session, parent=parent_id)


async def replace_lines(session: AnySession, parent: str, parent_id: UUID, rows: list[dict[str, Any]]) -> None:
    """The document's lines become `rows` (each a full line with client_id and position)."""
    table = _line_table(parent)
    await _delete_lines(table, parent).execute(session, parent=parent_id)
    for row in rows:
        await insert_row(session, table, {**row, parent: parent_id})


_PRODUCTS = compiled(
    select(*billing_products.columns).where(
        billing_products.c.id == func.any(bindparam("ids", type_=ARRAY(billing_products.c.id.type))),
        billing_products.c.deleted_at.is_(None),
    )
)


async def products(session: AnySession, ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    return {row["id"]: row for row in await _PRODUCTS.fetch(session, ids=ids)}


# ---------------------------------------------------------------- lists


@shaped
def _list(table: str, *, client: bool, status: bool, state: str | None, kind: bool, after: bool) -> Select[Any]:
    t = TABLES[table]
    statement = select(*_columns(t))
    if client:
        statement = statement.where(t.c.client_id == bindparam("client_id", type_=t.c.client_id.type))
    if status:
        statement = statement.where(t.c.status == bindparam("status", type_=t.c.status.type))
    if kind:
        statement = statement.where(t.c.kind == bindparam("kind", type_=t.c.kind.type))
    # A draft is a draft by its flag, never by its status: a draft credit note's status is `credit_note`.
    if state == "draft":
        statement = statement.where(t.c.draft)
    elif state == "finalized":
        statement = statement.where(~t.c.draft)
    elif state == "unpaid":
        statement = statement.where(~t.c.draft, ~t.c.paid, t.c.paid_amount < t.c.amount)
    elif state == "paid":
        statement = statement.where(~t.c.draft, t.c.paid | (t.c.paid_amount >= t.c.amount))
    if "deleted_at" in t.c:
        statement = statement.where(t.c.deleted_at.is_(None))
    return KEYSETS[table].apply(statement, after=after)


async def list_rows(
    session: AnySession,
    table: str,
    *,
    cursor: str | None,
    limit: int,
    client_id: UUID | None = None,
    status: str | None = None,
    state: str | None = None,
    kind: str | None = None,
) -> list[asyncpg.Record]:
    """`limit + 1` rows newest first (see `next_page`)."""
    values: dict[str, Any] = {"client_id": client_id, "status": status, "kind": kind}
    statement = _list(
        table, client=client_id is not None, status=status is not None, state=state, kind=kind is not None,
        after=cursor is not None,
    )  # fmt: skip
    binds = {k: v for k, v in values.items() if v is not None}
    return await statement.fetch(session, **binds, **KEYSETS[table].values(cursor, limit))


# ---------------------------------------------------------------- payments and decisions

_INVOICE_PAYMENTS = compiled(
    select(*billing_payments.columns).where(pay.invoice_id == bindparam("invoice_id")).order_by(pay.paid_on, pay.id)
)
_ACCEPTANCE = compiled(
    select(*billing_quote_acceptances.columns).where(billing_quote_acceptances.c.quote_id == bindparam("quote_id"))
)
_RECORD_PAYMENT = "select * from private.record_billing_payment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
_DECIDE = "select private.decide_billing_quote($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"


_CREDITED = compiled(
    select(func.coalesce(func.sum(-i.amount), 0)).where(
        i.credited_invoice_id == bindparam("invoice_id"), i.kind == "credit_note", i.deleted_at.is_(None)
    )
)


async def credited_amount(session: AnySession, invoice_id: UUID) -> Any:
    """What the credit notes against an invoice already credit (a positive amount)."""
    return await _CREDITED.fetchval(session, invoice_id=invoice_id)


async def invoice_payments(session: AnySession, invoice_id: UUID) -> list[asyncpg.Record]:
    return await _INVOICE_PAYMENTS.fetch(session, invoice_id=invoice_id)


async def acceptance(session: AnySession, quote_id: UUID) -> asyncpg.Record | None:
    return await _ACCEPTANCE.fetchrow(session, quote_id=quote_id)


async def record_payment(session: AnySession, invoice_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    """(payment_id, created): one SQL call locks the invoice, checks the balance, writes and audits."""
    row = await session.fetchrow(
        _RECORD_PAYMENT, invoice_id, values["method"], values["kind"], values["amount"], values["currency"],
        values["paid_on"], values.get("reference"), values.get("external_id"), values.get("note"), session.request_id,
    )  # fmt: skip
    assert row is not None
    return row


async def decide_quote(session: AnySession, quote_id: UUID, record: dict[str, Any], signature: str) -> UUID:
    value: UUID = await session.fetchval(
        _DECIDE, quote_id, record["decision"], record["reason"], record["user_email"], record["ip"],
        record["user_agent"], record["pdf_sha256"], record["amount_decimal"], record["currency"],
        record["decided_at_value"], record["payload"], signature, session.request_id,
    )  # fmt: skip
    return value
