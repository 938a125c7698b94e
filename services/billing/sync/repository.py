"""Every query of the billing sync half: changelog cursors, accounting exports, Stripe events."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import BigInteger, Table, Text, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.billing.sync.tables import billing_exports as exports
from services.billing.sync.tables import billing_payment_links as links
from services.billing.sync.tables import billing_payment_reminders as reminders
from services.billing.sync.tables import billing_sync_state
from services.billing.tables import billing_customers as customers
from services.billing.tables import billing_invoices as inv
from services.billing.tables import billing_products as products
from services.billing.tables import billing_quotes as quotes
from services.billing.tables import billing_subscriptions as subscriptions
from services.core.db import AnySession
from services.core.pagination import Keyset
from services.core.query import compiled, shaped

# ---------------------------------------------------------------- sync state

_STATES = compiled(select(billing_sync_state).order_by(billing_sync_state.c.resource))
_STATE = compiled(select(billing_sync_state).where(billing_sync_state.c.resource == bindparam("resource")))

_ran = {"last_run_at": func.now(), "updated_at": func.now()}
_SAVE_CURSOR = compiled(
    pg_insert(billing_sync_state)
    .values(
        resource=bindparam("resource"),
        cursor_at=bindparam("cursor_at"),
        cursor_ids=bindparam("cursor_ids"),
        last_mode=bindparam("mode"),
        last_changes=bindparam("changes"),
        last_success_at=func.now(),
        **_ran,
    )
    .on_conflict_do_update(
        index_elements=[billing_sync_state.c.resource],
        set_={
            "cursor_at": bindparam("cursor_at"),
            "cursor_ids": bindparam("cursor_ids"),
            "last_mode": bindparam("mode"),
            # A run commits a batch per changelog page: the run's total is the sum of its batches.
            "last_changes": func.least(
                billing_sync_state.c.last_changes * bindparam("accumulate") + bindparam("changes"), 2**31 - 1
            ),
            "last_success_at": func.now(),
            "last_error": None,
            "last_error_at": None,
            **_ran,
        },
    )
)
_RECORD_ERROR = compiled(
    pg_insert(billing_sync_state)
    .values(resource=bindparam("resource"), last_error=bindparam("error"), last_error_at=func.now(), **_ran)
    .on_conflict_do_update(
        index_elements=[billing_sync_state.c.resource],
        set_={"last_error": bindparam("error"), "last_error_at": func.now(), **_ran},
    )
)


async def sync_states(session: AnySession) -> list[asyncpg.Record]:
    return await _STATES.fetch(session)


async def sync_state(session: AnySession, resource: str) -> asyncpg.Record | None:
    return await _STATE.fetchrow(session, resource=resource)


async def save_cursor(
    session: AnySession,
    resource: str,
    cursor_at: datetime | None,
    cursor_ids: list[int],
    *,
    mode: str,
    changes: int,
    accumulate: bool,
) -> None:
    """Move the cursor (in the transaction that wrote the batch) and count the batch's changes."""
    values: dict[str, Any] = {"cursor_at": cursor_at, "cursor_ids": cursor_ids, "mode": mode, "changes": changes}
    await _SAVE_CURSOR.execute(session, resource=resource, accumulate=int(accumulate), **values)


async def record_error(session: AnySession, resource: str, error: str) -> None:
    await _RECORD_ERROR.execute(session, resource=resource, error=error[:4000])


# ---------------------------------------------------------------- webhook events and payments

# The journal meetings introduced (migrations/0060): insert, or nothing when Stripe redelivers.
_EVENT = (
    "insert into public.webhook_events (sender, event_id, event) values ('stripe', $1, $2)"
    " on conflict (sender, event_id) do nothing returning id"
)
# One call: locks the invoice, refuses an overpayment, audits; (payment_id, created).
_RECORD_PAYMENT = "select * from private.record_billing_payment($1, 'stripe', 'payment', $2, $3, $4, $5, $6, $7, $8)"


async def record_stripe_event(session: AnySession, event_id: str, event_type: str) -> bool:
    """False when this event was already handled (a redelivery)."""
    return await session.fetchval(_EVENT, event_id, event_type[:100]) is not None


async def record_stripe_payment(
    session: AnySession,
    invoice_id: UUID,
    amount: Decimal,
    currency: str,
    paid_on: date,
    *,
    reference: str,
    payment_intent_id: str,
    note: str | None,
    request_id: str | None,
) -> asyncpg.Record:
    """(payment_id, created); a refusal (FX409/FX422) raises after rolling back only its savepoint,
    so the webhook's transaction (its event row, the operator's notification) stays usable."""
    async with session.conn.transaction():
        row = await session.fetchrow(
            _RECORD_PAYMENT, invoice_id, amount, currency, paid_on, reference, payment_intent_id, note, request_id
        )
    assert row is not None
    return row


_INVOICE = compiled(
    select(
        inv.c.id, inv.c.client_id, inv.c.pennylane_id, inv.c.kind, inv.c.invoice_number, inv.c.label, inv.c.status,
        inv.c.draft, inv.c.paid, inv.c.currency, inv.c.amount, inv.c.paid_amount, inv.c.due_date, inv.c.deleted_at,
    ).where(inv.c.id == bindparam("invoice_id"))
)  # fmt: skip


async def invoice(session: AnySession, invoice_id: UUID) -> asyncpg.Record | None:
    """The facts about one invoice that payments need (under the caller's RLS)."""
    return await _INVOICE.fetchrow(session, invoice_id=invoice_id)


# ---------------------------------------------------------------- payment links

_LINK = compiled(select(links).where(links.c.invoice_id == bindparam("invoice_id")))
_LINK_BY_SESSION = compiled(select(links).where(links.c.stripe_session_id == bindparam("session_id")))
_SAVE_LINK = compiled(
    pg_insert(links)
    .values(
        client_id=bindparam("client_id"), invoice_id=bindparam("invoice_id"),
        stripe_session_id=bindparam("session_id"), url=bindparam("url"), amount=bindparam("amount"),
        currency=bindparam("currency"), expires_at=bindparam("expires_at"),
    )
    .on_conflict_do_update(
        index_elements=[links.c.invoice_id],
        set_={
            "stripe_session_id": bindparam("session_id"), "url": bindparam("url"), "amount": bindparam("amount"),
            "currency": bindparam("currency"), "expires_at": bindparam("expires_at"), "status": "open",
            "payment_intent_id": None, "updated_at": func.now(),
        },
    )
    .returning(*links.c)
)  # fmt: skip
_SET_LINK_STATUS = compiled(
    update(links)
    .where(links.c.stripe_session_id == bindparam("session_id"))
    .values(
        status=bindparam("status"),
        payment_intent_id=func.coalesce(bindparam("payment_intent_id", type_=Text), links.c.payment_intent_id),
        updated_at=func.now(),
    )
    .returning(links.c.id)
)


async def payment_link(session: AnySession, invoice_id: UUID) -> asyncpg.Record | None:
    return await _LINK.fetchrow(session, invoice_id=invoice_id)


async def payment_link_by_session(session: AnySession, session_id: str) -> asyncpg.Record | None:
    return await _LINK_BY_SESSION.fetchrow(session, session_id=session_id)


async def save_payment_link(session: AnySession, **values: Any) -> asyncpg.Record:
    row = await _SAVE_LINK.fetchrow(session, **values)
    assert row is not None
    return row


async def set_payment_link_status(
    session: AnySession, session_id: str, status: str, payment_intent_id: str | None = None
) -> bool:
    row = await _SET_LINK_STATUS.fetchval(
        session, session_id=session_id, status=status, payment_intent_id=payment_intent_id
    )
    return row is not None


# ---------------------------------------------------------------- mirror writes (keyed by Pennylane id)

_MIRRORED: dict[str, Table] = {"products": products, "quotes": quotes, "customer_invoices": inv}
_MANY = ARRAY(BigInteger)


@shaped
def _upsert(resource: str, names: tuple[str, ...]) -> Any:
    """Insert or update by `pennylane_id`; an older copy (a stale re-fetch) never overwrites a newer one."""
    table = _MIRRORED[resource]
    stmt = pg_insert(table).values({name: bindparam(name) for name in names})
    kept = {"pennylane_id", "client_id", "push_state"}
    changes = {name: stmt.excluded[name] for name in names if name not in kept}
    fresher = func.coalesce(table.c.pennylane_updated_at, literal_column("'-infinity'::timestamptz"))
    return stmt.on_conflict_do_update(
        index_elements=[table.c.pennylane_id],
        set_={**changes, "deleted_at": None, "updated_at": func.now()},
        where=func.coalesce(stmt.excluded.pennylane_updated_at, func.now()) >= fresher,
    )


@shaped
def _mark_deleted(resource: str, missing: bool) -> Any:
    table = _MIRRORED[resource]
    ids = table.c.pennylane_id == func.any(bindparam("ids", type_=_MANY))
    where = ~ids if missing else ids
    stmt = update(table).where(where, table.c.pennylane_id.is_not(None), table.c.deleted_at.is_(None))
    return stmt.values(deleted_at=func.now(), updated_at=func.now())


_CLIENT_IDS = compiled(
    select(customers.c.pennylane_id, customers.c.client_id).where(
        customers.c.pennylane_id == func.any(bindparam("ids", type_=_MANY))
    )
)


@shaped
def _local_ids(resource: str) -> Any:
    table = {"quotes": quotes, "customer_invoices": inv, "subscriptions": subscriptions}[resource]
    return select(table.c.pennylane_id, table.c.id, table.c.client_id).where(
        table.c.pennylane_id == func.any(bindparam("ids", type_=_MANY))
    )


_CUSTOMER = compiled(
    update(customers)
    .where(
        customers.c.pennylane_id == bindparam("pennylane_id"),
        func.coalesce(customers.c.pennylane_updated_at, literal_column("'-infinity'::timestamptz"))
        <= func.coalesce(bindparam("pennylane_updated_at", type_=customers.c.pennylane_updated_at.type), func.now()),
    )
    .values(
        legal_name=bindparam("legal_name"), emails=bindparam("emails"),
        pennylane_updated_at=bindparam("pennylane_updated_at"), updated_at=func.now(),
    )
)  # fmt: skip
# A customer removed from Pennylane: the link is dropped, the next billing action matches or recreates it.
_CUSTOMERS_GONE = compiled(
    update(customers)
    .where(customers.c.pennylane_id == func.any(bindparam("ids", type_=_MANY)))
    .values(pennylane_id=None, push_state="none", updated_at=func.now())
)
_CUSTOMERS_MISSING = compiled(
    update(customers)
    .where(customers.c.pennylane_id.is_not(None), customers.c.pennylane_id != func.all(bindparam("ids", type_=_MANY)))
    .values(pennylane_id=None, push_state="none", updated_at=func.now())
)


async def upsert_mirror(session: AnySession, resource: str, values: dict[str, Any]) -> None:
    await _upsert(resource, tuple(values)).execute(session, **values)


async def mark_deleted(session: AnySession, resource: str, pennylane_ids: list[int], *, missing: bool) -> int:
    """Mark those ids deleted (or, `missing`, every mirrored row but those); the rows changed."""
    if resource == "customers":
        statement = _CUSTOMERS_MISSING if missing else _CUSTOMERS_GONE
        result = await statement.execute(session, ids=pennylane_ids)
    else:
        result = await _mark_deleted(resource, missing).execute(session, ids=pennylane_ids)
    return int(result.split()[-1])


async def update_customer(session: AnySession, **values: Any) -> int:
    return int((await _CUSTOMER.execute(session, **values)).split()[-1])


async def client_ids(session: AnySession, customer_ids: list[int]) -> dict[int, UUID]:
    """Foxeo client of each linked Pennylane customer."""
    return {row[0]: row[1] for row in await _CLIENT_IDS.fetch(session, ids=customer_ids)}


async def local_ids(session: AnySession, resource: str, pennylane_ids: list[int]) -> dict[int, tuple[UUID, UUID]]:
    """(id, client_id) of the mirror rows of those Pennylane ids."""
    return {row[0]: (row[1], row[2]) for row in await _local_ids(resource).fetch(session, ids=pennylane_ids)}


# ---------------------------------------------------------------- payment reminders

_sent_steps = (
    select(func.coalesce(func.array_agg(reminders.c.step), literal_column("'{}'::text[]")))
    .where(reminders.c.invoice_id == inv.c.id)
    .scalar_subquery()
)
# Open invoices whose due date is close or past (the partial index billing_invoices_open_idx).
_REMINDER_CANDIDATES = compiled(
    select(
        inv.c.id, inv.c.client_id, inv.c.invoice_number, inv.c.label, inv.c.currency, inv.c.amount,
        inv.c.paid_amount, inv.c.due_date, _sent_steps.label("sent_steps"),
    )
    .where(
        ~inv.c.draft, ~inv.c.paid, inv.c.deleted_at.is_(None), inv.c.kind == "invoice",
        inv.c.paid_amount < inv.c.amount, inv.c.due_date <= bindparam("horizon", type_=inv.c.due_date.type),
    )
    .order_by(inv.c.due_date, inv.c.id)
)  # fmt: skip
_RECORD_REMINDER = compiled(
    pg_insert(reminders)
    .values(
        client_id=bindparam("client_id"), invoice_id=bindparam("invoice_id"), step=bindparam("step"),
        due_date=bindparam("due_date"), recipients=bindparam("recipients"), emailed=bindparam("emailed"),
    )
    .on_conflict_do_nothing(index_elements=[reminders.c.invoice_id, reminders.c.step])
    .returning(reminders.c.id)
)  # fmt: skip


async def reminder_candidates(session: AnySession, horizon: date) -> list[asyncpg.Record]:
    return await _REMINDER_CANDIDATES.fetch(session, horizon=horizon)


async def record_reminder(session: AnySession, **values: Any) -> bool:
    """False when this step was already sent (another run got there first)."""
    return await _RECORD_REMINDER.fetchval(session, **values) is not None


# ---------------------------------------------------------------- accounting exports

EXPORTS_KEYSET = Keyset(exports.c.created_at, exports.c.id, kinds=(datetime, UUID), descending=True)
_INSERT_EXPORT = compiled(
    pg_insert(exports)
    .values(
        period_start=bindparam("period_start"), period_end=bindparam("period_end"),
        requested_by=bindparam("requested_by"),
    )
    .returning(*exports.c)
)  # fmt: skip
_EXPORT = compiled(select(exports).where(exports.c.id == bindparam("export_id")))


@shaped
def _list_exports(after: bool) -> Any:
    return EXPORTS_KEYSET.apply(select(exports), after=after)


@shaped
def _update_export(names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {name: bindparam(name) for name in names}
    return (
        update(exports)
        .where(exports.c.id == bindparam("export_id"))
        .values(**values, updated_at=func.now())
        .returning(*exports.c)
    )


async def insert_export(session: AnySession, **values: Any) -> asyncpg.Record:
    row = await _INSERT_EXPORT.fetchrow(session, **values)
    assert row is not None
    return row


async def export(session: AnySession, export_id: UUID) -> asyncpg.Record | None:
    return await _EXPORT.fetchrow(session, export_id=export_id)


async def list_exports(session: AnySession, cursor: str | None, limit: int) -> list[asyncpg.Record]:
    return await _list_exports(cursor is not None).fetch(session, **EXPORTS_KEYSET.values(cursor, limit))


async def update_export(session: AnySession, export_id: UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await _update_export(tuple(values)).fetchrow(session, export_id=export_id, **values)
    assert row is not None
    return row
