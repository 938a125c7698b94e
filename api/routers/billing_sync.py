"""Billing, sync and payment side: Pennylane sync status, reconciliation, revenue, payment links,
accounting exports (the `billing` tag, beside api/routers/billing.py)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import OperatorSession, Session
from api.problems import responses
from services.billing import exports, reconciliation, revenue, stripe_links
from services.billing.payment_reminders import today
from services.billing.sync.schemas import (
    ExportCreate,
    ExportDownload,
    ExportRead,
    PaymentLinkRead,
    ReconciliationRow,
    RevenueReport,
    SyncStatus,
)
from services.billing.sync.status import sync_status
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/billing", tags=["billing"])


@router.get("/sync/status", response_model=SyncStatus, responses=responses(401, 403))
async def get_sync_status(session: OperatorSession, request: Request) -> SyncStatus:
    """The Pennylane sync per changelog: last run, lag behind now, last error."""
    return await sync_status(session, request.app.state.settings)


@router.get("/reconciliation", response_model=Page[ReconciliationRow], responses=responses(401, 403, 422))
async def list_reconciliation(
    session: OperatorSession,
    only_mismatches: bool = False,
    client_id: UUID | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[ReconciliationRow]:
    """Per finalized invoice, Foxeo vs Pennylane vs Stripe, newest first, with every mismatch."""
    return await reconciliation.reconciliation(
        session, only_mismatches=only_mismatches, client_id=client_id, cursor=cursor, limit=limit
    )


@router.get("/revenue", response_model=RevenueReport, responses=responses(401, 403, 422))
async def get_revenue(
    session: OperatorSession,
    start: date | None = None,
    end: date | None = None,
    currency: str = Query("EUR", pattern="^[A-Z]{3}$"),
) -> RevenueReport:
    """Invoiced and collected per month (the last 12 by default), outstanding and overdue, per client."""
    last = end or today()
    first = start or (last.replace(day=1) - timedelta(days=335)).replace(day=1)
    return await revenue.revenue(session, start=first, end=last, currency=currency)


@router.post(
    "/invoices/{invoice_id}/payment-link", response_model=PaymentLinkRead, responses=responses(401, 404, 409, 503)
)
async def request_invoice_payment_link(session: Session, request: Request, invoice_id: UUID) -> PaymentLinkRead:
    """The Stripe link to pay an unpaid invoice, made by a job when there is none (`pending`: ask again)."""
    return await stripe_links.payment_link(session, request.app.state.settings, invoice_id)


@router.post("/exports", response_model=ExportRead, status_code=202, responses=responses(401, 403, 422, 503))
async def request_export(session: OperatorSession, request: Request, data: ExportCreate) -> ExportRead:
    """Ask Pennylane for the FEC of a period (a job polls it and files it)."""
    return await exports.request_fec(session, request.app.state.settings, data)


@router.get("/exports", response_model=Page[ExportRead], responses=responses(401, 403, 422))
async def list_exports(
    session: OperatorSession,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[ExportRead]:
    """Accounting exports, newest first."""
    return await exports.list_exports(session, cursor, limit)


@router.get("/exports/{export_id}", response_model=ExportRead, responses=responses(401, 403, 404))
async def get_export(session: OperatorSession, export_id: UUID) -> ExportRead:
    """One accounting export and its state."""
    return await exports.get_export(session, export_id)


@router.get("/exports/{export_id}/download", response_model=ExportDownload, responses=responses(401, 403, 404, 409))
async def download_export(session: OperatorSession, request: Request, export_id: UUID) -> ExportDownload:
    """A short-lived link to a ready export's file."""
    return await exports.download_link(session, request.app.state.settings, export_id)
