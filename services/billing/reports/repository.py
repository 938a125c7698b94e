"""The reconciliation and revenue queries, in SQL over the mirror tables (payments, links, invoices)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Date, and_, bindparam, case, cast, func, literal, null, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, array

from services.billing.sync.tables import billing_payment_links as links
from services.billing.tables import billing_invoices as inv
from services.billing.tables import billing_payments as pay
from services.core.db import AnySession
from services.core.pagination import Keyset
from services.core.query import compiled, shaped

# ---------------------------------------------------------------- reconciliation

_stripe_paid = (
    select(func.coalesce(func.sum(pay.c.amount), 0))
    .where(pay.c.invoice_id == inv.c.id, pay.c.method == "stripe")
    .scalar_subquery()
)
_balance = inv.c.amount - inv.c.paid_amount
_foxeo_paid = inv.c.paid_amount >= inv.c.amount
_stripe_says_paid = or_(_stripe_paid > 0, links.c.status == "complete")
# Each mismatch: (code, condition). Listed in the order the view shows them.
_MISMATCHES = [
    ("not_in_pennylane", inv.c.pennylane_id.is_(None)),
    ("stripe_paid_pennylane_open", and_(_stripe_says_paid, ~inv.c.paid, inv.c.pennylane_id.is_not(None))),
    ("stripe_paid_foxeo_open", and_(links.c.status == "complete", _stripe_paid == 0)),
    ("pennylane_paid_foxeo_open", and_(inv.c.paid, ~_foxeo_paid)),
    ("foxeo_paid_pennylane_open", and_(_foxeo_paid, ~inv.c.paid, inv.c.pennylane_id.is_not(None))),
    ("pennylane_balance_differs", and_(~inv.c.paid, inv.c.remaining_amount != _balance)),
    ("stripe_link_open_on_paid_invoice", and_(links.c.status == "open", or_(inv.c.paid, _foxeo_paid))),
    ("stripe_link_amount_differs", and_(links.c.status == "open", links.c.amount != _balance, _balance > 0)),
]
_mismatches = func.array_remove(
    array([case((condition, literal(code)), else_=null()) for code, condition in _MISMATCHES]),
    None,
    type_=ARRAY(inv.c.status.type),
)
_rows = (
    select(
        inv.c.id.label("invoice_id"), inv.c.client_id, inv.c.invoice_number, inv.c.issue_date, inv.c.due_date,
        inv.c.currency, inv.c.amount,
        case((_foxeo_paid, "paid"), (inv.c.paid_amount > 0, "partial"), else_="open").label("foxeo_status"),
        inv.c.paid_amount.label("foxeo_paid_amount"),
        case((inv.c.pennylane_id.is_(None), "missing"), else_=inv.c.status).label("pennylane_status"),
        inv.c.paid.label("pennylane_paid"), inv.c.remaining_amount.label("pennylane_remaining"),
        case((_stripe_says_paid, "paid"), else_=func.coalesce(links.c.status, "none")).label("stripe_status"),
        _stripe_paid.label("stripe_paid_amount"), _mismatches.label("mismatches"),
        # The issue date as days since 1970 for the keyset (cursors carry ints, not dates).
        (inv.c.issue_date - cast(literal("1970-01-01"), Date)).label("issue_day"),
    )
    .select_from(inv.outerjoin(links, links.c.invoice_id == inv.c.id))
    .where(inv.c.kind == "invoice", ~inv.c.draft, inv.c.deleted_at.is_(None))
).subquery("r")  # fmt: skip
RECONCILIATION_KEYSET = Keyset(_rows.c.issue_day, _rows.c.invoice_id, kinds=(int, UUID), descending=True)


@shaped
def _reconciliation(*, only_mismatches: bool, client: bool, after: bool) -> Any:
    stmt = select(_rows)
    if only_mismatches:
        stmt = stmt.where(func.cardinality(_rows.c.mismatches) > 0)
    if client:
        stmt = stmt.where(_rows.c.client_id == bindparam("client_id"))
    return RECONCILIATION_KEYSET.apply(stmt, after=after)


async def reconciliation(
    session: AnySession, *, only_mismatches: bool, client_id: UUID | None, cursor: str | None, limit: int
) -> list[asyncpg.Record]:
    shape = _reconciliation(only_mismatches=only_mismatches, client=client_id is not None, after=cursor is not None)
    values = RECONCILIATION_KEYSET.values(cursor, limit)
    if client_id is not None:
        values["client_id"] = client_id
    return await shape.fetch(session, **values)


# ---------------------------------------------------------------- revenue

_month = func.date_trunc(text("'month'"), inv.c.issue_date)
_issued = and_(~inv.c.draft, inv.c.deleted_at.is_(None), inv.c.currency == bindparam("currency"))
_in_range = and_(inv.c.issue_date >= bindparam("start"), inv.c.issue_date <= bindparam("end"))
_paid_range = and_(pay.c.paid_on >= bindparam("start"), pay.c.paid_on <= bindparam("end"))
_pay_month = func.date_trunc(text("'month'"), pay.c.paid_on)
_INVOICED = compiled(
    select(cast(_month, Date).label("month"), func.sum(inv.c.amount).label("total"))
    .where(_issued, _in_range)
    .group_by(_month)
)
_COLLECTED = compiled(
    select(cast(_pay_month, Date).label("month"), func.sum(pay.c.amount).label("total"))
    .where(_paid_range, pay.c.currency == bindparam("currency"))
    .group_by(_pay_month)
)
_open = and_(_issued, inv.c.kind == "invoice", ~inv.c.paid, inv.c.paid_amount < inv.c.amount)
_OUTSTANDING = compiled(
    select(
        func.coalesce(func.sum(_balance), 0).label("outstanding"),
        func.coalesce(func.sum(_balance).filter(inv.c.due_date < bindparam("today")), 0).label("overdue"),
    ).where(_open)
)
_invoiced_by_client = (
    select(inv.c.client_id, func.sum(inv.c.amount).label("invoiced"))
    .where(_issued, _in_range)
    .group_by(inv.c.client_id)
).subquery("i")
_collected_by_client = (
    select(pay.c.client_id, func.sum(pay.c.amount).label("collected"))
    .where(_paid_range, pay.c.currency == bindparam("currency"))
    .group_by(pay.c.client_id)
).subquery("c")
_outstanding_by_client = (
    select(inv.c.client_id, func.sum(_balance).label("outstanding")).where(_open).group_by(inv.c.client_id)
).subquery("o")
_ids = (
    select(_invoiced_by_client.c.client_id)
    .union(select(_collected_by_client.c.client_id), select(_outstanding_by_client.c.client_id))
    .subquery("k")
)
_BY_CLIENT = compiled(
    select(
        _ids.c.client_id,
        func.coalesce(_invoiced_by_client.c.invoiced, 0).label("invoiced"),
        func.coalesce(_collected_by_client.c.collected, 0).label("collected"),
        func.coalesce(_outstanding_by_client.c.outstanding, 0).label("outstanding"),
    )
    .select_from(
        _ids.outerjoin(_invoiced_by_client, _invoiced_by_client.c.client_id == _ids.c.client_id)
        .outerjoin(_collected_by_client, _collected_by_client.c.client_id == _ids.c.client_id)
        .outerjoin(_outstanding_by_client, _outstanding_by_client.c.client_id == _ids.c.client_id)
    )
    .order_by(func.coalesce(_outstanding_by_client.c.outstanding, 0).desc(), _ids.c.client_id)
)


async def revenue(session: AnySession, *, currency: str, start: date, end: date, today: date) -> dict[str, Any]:
    window = {"currency": currency, "start": start, "end": end}
    return {
        "invoiced": await _INVOICED.fetch(session, **window),
        "collected": await _COLLECTED.fetch(session, **window),
        "totals": await _OUTSTANDING.fetchrow(session, currency=currency, today=today),
        "clients": await _BY_CLIENT.fetch(session, **window),
    }
