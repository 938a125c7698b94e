"""Billing: clients' billing identities and quotes (drafted and sent by the operator, decided by the
client's members with a signed proof)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import OperatorSession, Session
from api.problems import responses
from services.billing import customers, invoices, quotes
from services.billing.schemas import (
    AcceptanceRead,
    CustomerRead,
    CustomerWrite,
    InvoiceDetail,
    QuoteCreate,
    QuoteDecline,
    QuoteDetail,
    QuoteRead,
    QuoteWrite,
)
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/billing", tags=["billing"])


@router.get("/customers/{client_id}", response_model=CustomerRead, responses=responses(401, 404))
async def get_customer(session: Session, client_id: UUID) -> CustomerRead:
    """A client's billing identity and its Pennylane link."""
    return await customers.get_customer(session, client_id)


@router.put("/customers/{client_id}", response_model=CustomerRead, responses=responses(401, 403, 404, 422))
async def set_customer(
    session: OperatorSession, request: Request, client_id: UUID, data: CustomerWrite
) -> CustomerRead:
    """Set a client's billing identity (pushed to its Pennylane customer by a job once linked)."""
    return await customers.set_customer(session, request.app.state.settings, client_id, data)


@router.post("/quotes", response_model=QuoteDetail, status_code=201, responses=responses(401, 403, 404, 422))
async def create_quote(session: OperatorSession, data: QuoteCreate) -> QuoteDetail:
    """Draft a quote for a client (product lines or free lines)."""
    return await quotes.create_quote(session, data)


@router.get("/quotes", response_model=Page[QuoteRead], responses=responses(401, 404, 422))
async def list_quotes(
    session: Session,
    client_id: UUID | None = None,
    status: str | None = Query(None, pattern=r"^[a-z_]{1,40}$"),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> Page[QuoteRead]:
    """List quotes, newest first (a member sees their client's sent quotes)."""
    return await quotes.list_quotes(session, client_id, status, cursor, limit)


@router.get("/quotes/{quote_id}", response_model=QuoteDetail, responses=responses(401, 404))
async def get_quote(session: Session, quote_id: UUID) -> QuoteDetail:
    """A quote with its lines and the client's decision."""
    return await quotes.get_quote(session, quote_id)


@router.put("/quotes/{quote_id}", response_model=QuoteDetail, responses=responses(401, 403, 404, 409, 422))
async def update_quote(session: OperatorSession, quote_id: UUID, data: QuoteWrite) -> QuoteDetail:
    """Replace a draft quote's content (until it is sent)."""
    return await quotes.update_quote(session, quote_id, data)


@router.post(
    "/quotes/{quote_id}/send",
    response_model=QuoteRead,
    status_code=202,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def send_quote(session: OperatorSession, request: Request, quote_id: UUID) -> QuoteRead:
    """Send a quote: Pennylane makes its PDF and e-mails it (in the background)."""
    return await quotes.send_quote(session, request.app.state.settings, quote_id)


def _origin(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


@router.post("/quotes/{quote_id}/accept", response_model=AcceptanceRead, responses=responses(401, 403, 404, 409))
async def accept_quote(session: Session, request: Request, quote_id: UUID) -> AcceptanceRead:
    """Accept a quote (a member of the client): a signed, timestamped record is kept as proof."""
    ip, agent = _origin(request)
    settings = request.app.state.settings
    return await quotes.decide(session, settings, quote_id, "accepted", None, ip=ip, user_agent=agent)


@router.post("/quotes/{quote_id}/decline", response_model=AcceptanceRead, responses=responses(401, 403, 404, 409, 422))
async def decline_quote(session: Session, request: Request, quote_id: UUID, data: QuoteDecline) -> AcceptanceRead:
    """Decline a quote with a reason (a member of the client); the decision is signed and kept."""
    ip, agent = _origin(request)
    settings = request.app.state.settings
    return await quotes.decide(session, settings, quote_id, "declined", data.reason, ip=ip, user_agent=agent)


@router.post(
    "/quotes/{quote_id}/invoice",
    response_model=InvoiceDetail,
    status_code=201,
    responses=responses(401, 403, 404, 409, 503),
)
async def invoice_quote(session: OperatorSession, request: Request, quote_id: UUID) -> InvoiceDetail:
    """Turn an accepted quote into a draft invoice."""
    return await invoices.invoice_from_quote(session, request.app.state.settings, quote_id)
