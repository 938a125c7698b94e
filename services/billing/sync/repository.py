"""Every query of the billing sync half: changelog cursors, accounting exports, Stripe events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Text, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.billing.sync.tables import billing_exports as exports
from services.billing.sync.tables import billing_payment_links as links
from services.billing.sync.tables import billing_payment_reminders as reminders
from services.billing.sync.tables import billing_sync_state
from services.billing.tables import billing_customers as customers
from services.billing.tables import billing_invoices as inv
from services.billing.tables import billing_products as products
from services.billing.tables import billing_quotes as quotes
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


async def record_stripe_event(session: AnySession, event_id: str, event_type: str) -> bool:
    """False when this event was already handled (a redelivery)."""
    return await session.fetchval(_EVENT, event_id, event_type[:100]) is not None


def savepoint(session: AnySession) -> Any:
    """`async with savepoint(session):` a refused statement inside rolls back only to here, so the
    webhook's transaction (its event row, the operator's notification) stays usable."""
    return session.conn.transaction()


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


# ---------------------------------------------------------------- mirror (the full listing's deletions)

_MIRRORED: dict[str, Any] = {"products": products, "quotes": quotes, "customer_invoices": inv}


@shaped
def _mirrored_ids(resource: str) -> Any:
    if resource == "customers":
        return select(customers.c.pennylane_id).where(customers.c.pennylane_id.is_not(None))
    table = _MIRRORED[resource]
    return select(table.c.pennylane_id).where(table.c.pennylane_id.is_not(None), table.c.deleted_at.is_(None))


async def mirrored_ids(session: AnySession, resource: str) -> set[int]:
    """Pennylane ids of the live mirror rows (only after a full listing: it reads the whole table)."""
    return {row[0] for row in await _mirrored_ids(resource).fetch(session)}


# ---------------------------------------------------------------- payment reminders

_sent_steps = (
    select(func.coalesce(func.array_agg(reminders.c.step), literal_column("'{}'::text[]")))
    .where(reminders.c.invoice_id == inv.c.id)
    .scalar_subquery()
)
_billing_emails = select(customers.c.emails).where(customers.c.client_id == inv.c.client_id).scalar_subquery()
# Open invoices whose due date is close or past (the partial index billing_invoices_open_idx).
_REMINDER_CANDIDATES = compiled(
    select(
        inv.c.id, inv.c.client_id, inv.c.invoice_number, inv.c.label, inv.c.currency, inv.c.amount,
        inv.c.paid_amount, inv.c.due_date, _sent_steps.label("sent_steps"), _billing_emails.label("emails"),
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
