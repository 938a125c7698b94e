"""Billing: invoices and credit notes, payments, and monthly subscriptions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import OperatorSession, Session
from api.problems import responses
from services.billing import invoices, subscriptions
from services.billing.schemas import (
    CreditNoteCreate,
    InvoiceCreate,
    InvoiceDetail,
    InvoiceKind,
    InvoiceRead,
    InvoiceState,
    InvoiceWrite,
    PaymentCreate,
    PaymentRead,
    PdfLink,
    SubscriptionCreate,
    SubscriptionRead,
)
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/billing", tags=["billing"])
Cursor = Query(None, max_length=500)
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.post("/invoices", response_model=InvoiceDetail, status_code=201, responses=responses(401, 403, 404, 422, 503))
async def create_invoice(session: OperatorSession, request: Request, data: InvoiceCreate) -> InvoiceDetail:
    """Draft an invoice for a client (created as a draft in Pennylane in the background)."""
    return await invoices.create_invoice(session, request.app.state.settings, data)


@router.get("/invoices", response_model=Page[InvoiceRead], responses=responses(401, 404, 422))
async def list_invoices(
    session: Session,
    client_id: UUID | None = None,
    status: InvoiceState | None = Query(None, description="draft includes draft credit notes"),
    kind: InvoiceKind | None = None,
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> Page[InvoiceRead]:
    """List invoices and credit notes, newest first (a member sees their client's finalized ones)."""
    return await invoices.list_invoices(session, client_id, status, kind, cursor, limit)


@router.get("/invoices/{invoice_id}", response_model=InvoiceDetail, responses=responses(401, 404))
async def get_invoice(session: Session, invoice_id: UUID) -> InvoiceDetail:
    """An invoice with its lines and payments."""
    return await invoices.get_invoice(session, invoice_id)


@router.put("/invoices/{invoice_id}", response_model=InvoiceDetail, responses=responses(401, 403, 404, 409, 422, 503))
async def update_invoice(
    session: OperatorSession, request: Request, invoice_id: UUID, data: InvoiceWrite
) -> InvoiceDetail:
    """Replace a draft invoice's content (sent to Pennylane in the background)."""
    return await invoices.update_invoice(session, request.app.state.settings, invoice_id, data)


@router.post(
    "/invoices/{invoice_id}/finalize",
    response_model=InvoiceRead,
    status_code=202,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def finalize_invoice(session: OperatorSession, request: Request, invoice_id: UUID) -> InvoiceRead:
    """Finalize a draft: Pennylane numbers it (in the background)."""
    return await invoices.finalize_invoice(session, request.app.state.settings, invoice_id)


@router.post(
    "/invoices/{invoice_id}/send",
    response_model=InvoiceRead,
    status_code=202,
    responses=responses(401, 403, 404, 409, 503),
)
async def send_invoice(session: OperatorSession, request: Request, invoice_id: UUID) -> InvoiceRead:
    """E-mail a finalized invoice from Pennylane (in the background)."""
    return await invoices.send_invoice(session, request.app.state.settings, invoice_id)


@router.get("/invoices/{invoice_id}/pdf", response_model=PdfLink, responses=responses(401, 404, 409))
async def invoice_pdf(session: Session, invoice_id: UUID) -> PdfLink:
    """The invoice's public PDF link."""
    return await invoices.pdf_link(session, invoice_id)


@router.post(
    "/invoices/{invoice_id}/payments",
    response_model=PaymentRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
async def record_payment(session: OperatorSession, invoice_id: UUID, data: PaymentCreate) -> PaymentRead:
    """Record a transfer, cheque, deposit or partial payment received for an invoice."""
    return await invoices.add_payment(session, invoice_id, data)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response_model=InvoiceDetail,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def issue_credit_note(
    session: OperatorSession, request: Request, invoice_id: UUID, data: CreditNoteCreate
) -> InvoiceDetail:
    """Issue a credit note against a finalized invoice, in full or for some lines."""
    return await invoices.issue_credit_note(session, request.app.state.settings, invoice_id, data)


@router.get("/clients/{client_id}/payments", response_model=Page[PaymentRead], responses=responses(401, 404, 422))
async def list_payments(
    session: Session, client_id: UUID, cursor: str | None = Cursor, limit: int = Limit
) -> Page[PaymentRead]:
    """A client's payment history, newest first."""
    return await invoices.list_payments(session, client_id, cursor, limit)


@router.post(
    "/subscriptions", response_model=SubscriptionRead, status_code=201, responses=responses(401, 403, 404, 422, 503)
)
async def create_subscription(session: OperatorSession, request: Request, data: SubscriptionCreate) -> SubscriptionRead:
    """Start a monthly retainer (a Pennylane billing subscription, created in the background)."""
    return await subscriptions.create_subscription(session, request.app.state.settings, data)


@router.get("/subscriptions", response_model=Page[SubscriptionRead], responses=responses(401, 404, 422))
async def list_subscriptions(
    session: Session, client_id: UUID | None = None, cursor: str | None = Cursor, limit: int = Limit
) -> Page[SubscriptionRead]:
    """List subscriptions, newest first."""
    return await subscriptions.list_subscriptions(session, client_id, cursor, limit)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionRead, responses=responses(401, 404))
async def get_subscription(session: Session, subscription_id: UUID) -> SubscriptionRead:
    """One subscription."""
    return await subscriptions.get_subscription(session, subscription_id)


_CHANGE = {"status_code": 202, "response_model": SubscriptionRead, "responses": responses(401, 403, 404, 409, 503)}


@router.post("/subscriptions/{subscription_id}/pause", **_CHANGE)  # type: ignore[arg-type]
async def pause_subscription(session: OperatorSession, request: Request, subscription_id: UUID) -> SubscriptionRead:
    """Pause a subscription (Pennylane is told in the background)."""
    return await subscriptions.change_subscription(session, request.app.state.settings, subscription_id, "paused")


@router.post("/subscriptions/{subscription_id}/resume", **_CHANGE)  # type: ignore[arg-type]
async def resume_subscription(session: OperatorSession, request: Request, subscription_id: UUID) -> SubscriptionRead:
    """Resume a paused subscription (Pennylane is told in the background)."""
    return await subscriptions.change_subscription(session, request.app.state.settings, subscription_id, "resumed")


@router.post("/subscriptions/{subscription_id}/cancel", **_CHANGE)  # type: ignore[arg-type]
async def cancel_subscription(session: OperatorSession, request: Request, subscription_id: UUID) -> SubscriptionRead:
    """Cancel a subscription for good (Pennylane is told in the background)."""
    return await subscriptions.change_subscription(session, request.app.state.settings, subscription_id, "cancelled")
