"""Reconciliation for the operator: per finalized invoice, what Foxeo, Pennylane and Stripe each say,
and every disagreement between them (computed in SQL: services/billing/reports/repository.py)."""

from __future__ import annotations

from uuid import UUID

from services.billing.reports import repository
from services.billing.sync.schemas import ReconciliationRow
from services.core.db import UserSession
from services.core.pagination import Page, next_page


async def reconciliation(
    session: UserSession, *, only_mismatches: bool, client_id: UUID | None, cursor: str | None, limit: int
) -> Page[ReconciliationRow]:
    rows = await repository.reconciliation(
        session, only_mismatches=only_mismatches, client_id=client_id, cursor=cursor, limit=limit
    )
    page, next_cursor = next_page(rows, limit, lambda row: [row["issue_day"], row["invoice_id"]])
    return Page[ReconciliationRow](
        items=[ReconciliationRow.model_validate(dict(row)) for row in page], next_cursor=next_cursor
    )
