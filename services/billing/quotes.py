"""Quotes: the operator drafts and sends them (Pennylane makes the PDF and e-mails it, in a job); the
client's members read them and accept or decline with a signed proof; an accepted quote becomes an
invoice in one call. A quote can answer an evolution request, which then points back to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.billing import einvoicing, repository, service
from services.billing.errors import BillingInvalid, BillingStateConflict, DecisionForbidden, QuoteNotFound
from services.billing.schemas import AcceptanceRead, LineRead, QuoteCreate, QuoteDetail, QuoteRead, QuoteWrite
from services.clients import service as clients
from services.core import queue
from services.core.db import UserSession
from services.core.errors import IntegrationNotConfigured
from services.core.pagination import Page, next_page
from services.core.settings import Settings
from services.evolutions import service as evolutions
from services.evolutions.schemas import EvolutionStatusChange, EvolutionUpdate

SEND_QUOTE_JOB = "billing.send_quote"
PUSH_QUOTE_STATUS_JOB = "billing.push_quote_status"
INVOICE_FROM_QUOTE_JOB = "billing.invoice_from_quote"
# Until it is sent a quote can change; after, only its status does (Pennylane's copy is the document).
EDITABLE = ("none", "failed")


def require_pennylane(settings: Settings) -> None:
    if not settings.pennylane_api_token:
        raise IntegrationNotConfigured("pennylane", "PENNYLANE_API_TOKEN")


async def load(session: UserSession, quote_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await repository.get(session, "billing_quotes", quote_id, lock=lock)
    if row is None:
        raise QuoteNotFound()
    return row


async def detail(session: UserSession, row: asyncpg.Record) -> QuoteDetail:
    lines = [LineRead(**dict(line)) for line in await repository.lines(session, "quote_id", row["id"])]
    decision = await repository.acceptance(session, row["id"])
    return QuoteDetail(
        **dict(row), lines=lines, decision=None if decision is None else AcceptanceRead(**dict(decision))
    )


def _document(data: QuoteWrite) -> dict[str, Any]:
    return {
        "label": data.label, "issue_date": data.issue_date or service.today(), "valid_until": data.valid_until,
        "operation_nature": data.operation_nature, "vat_on_debits": data.vat_on_debits,
        "special_mention": data.special_mention,
    }  # fmt: skip


def _check_dates(values: dict[str, Any]) -> None:
    if values["valid_until"] < values["issue_date"]:
        raise BillingInvalid("valid_until is before issue_date", field="valid_until")


async def create_quote(session: UserSession, data: QuoteCreate) -> QuoteDetail:
    """A draft quote (nothing reaches Pennylane before it is sent)."""
    client = await clients.require_client(session, data.client_id)
    if data.evolution_id is not None:
        evolution = await evolutions.get_evolution(session, data.evolution_id)
        if evolution.client_id != client.id:
            raise BillingInvalid("the evolution request belongs to another client", field="evolution_id")
    values = {**_document(data), "client_id": client.id, "evolution_id": data.evolution_id}
    _check_dates(values)
    lines = await service.priced_lines(session, client.id, data.lines)
    row = await repository.insert_row(
        session, "billing_quotes", {**values, **service.totals(lines), "created_by": session.principal.user_id}
    )
    await repository.replace_lines(session, "quote_id", row["id"], lines)
    after = await detail(session, row)
    await audit.record(
        session, action="billing.quote_created", entity_type="billing_quote", entity_id=row["id"],
        client_id=client.id, after=after,
    )  # fmt: skip
    return after


async def update_quote(session: UserSession, quote_id: UUID, data: QuoteWrite) -> QuoteDetail:
    before = await load(session, quote_id, lock=True)
    if before["status"] != "draft" or before["push_state"] not in EDITABLE:
        raise BillingStateConflict("only a draft quote that was not sent can be edited")
    values = _document(data)
    _check_dates(values)
    lines = await service.priced_lines(session, before["client_id"], data.lines)
    row = await repository.update_row(session, "billing_quotes", quote_id, {**values, **service.totals(lines)})
    assert row is not None
    await repository.replace_lines(session, "quote_id", quote_id, lines)
    after = await detail(session, row)
    await audit.record(
        session, action="billing.quote_updated", entity_type="billing_quote", entity_id=quote_id,
        client_id=before["client_id"], before=QuoteRead(**dict(before)), after=after,
    )  # fmt: skip
    return after


async def list_quotes(
    session: UserSession, client_id: UUID | None, status: str | None, cursor: str | None, limit: int
) -> Page[QuoteRead]:
    if client_id is not None:
        await clients.require_client(session, client_id)
    rows = await repository.list_rows(
        session, "billing_quotes", repository.QUOTE_KEYSET, cursor=cursor, limit=limit, client_id=client_id,
        status=status,
    )  # fmt: skip
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    return Page[QuoteRead](items=[QuoteRead(**dict(r)) for r in page], next_cursor=next_cursor)


async def get_quote(session: UserSession, quote_id: UUID) -> QuoteDetail:
    return await detail(session, await load(session, quote_id))


async def _link_evolution(session: UserSession, evolution_id: UUID, quote_id: UUID) -> None:
    """The evolution request now points at its quote (and reads `quoted` when it was being estimated)."""
    evolution = await evolutions.get_evolution(session, evolution_id)
    reference = f"billing:{quote_id}"
    if evolution.status == "requested":
        await evolutions.change_status(session, evolution_id, EvolutionStatusChange(status="estimating"))
        evolution = await evolutions.get_evolution(session, evolution_id)
    if evolution.status == "estimating":
        change = EvolutionStatusChange(status="quoted", quote_reference=reference)
        await evolutions.change_status(session, evolution_id, change)
    elif evolution.status not in ("delivered", "declined"):
        await evolutions.update_evolution(session, evolution_id, EvolutionUpdate(quote_reference=reference))


async def send_quote(session: UserSession, settings: Settings, quote_id: UUID) -> QuoteRead:
    """Check the e-invoicing mentions, then a job creates the quote in Pennylane and e-mails its PDF."""
    require_pennylane(settings)
    before = await load(session, quote_id, lock=True)
    if before["status"] != "draft" or before["push_state"] not in EDITABLE:
        raise BillingStateConflict("this quote was already sent")
    customer = await repository.get(session, "billing_customers", before["client_id"])
    einvoicing.check(customer, before["operation_nature"])
    row = await repository.update_row(
        session, "billing_quotes", quote_id, {"push_state": "pending", "push_error": None}
    )
    assert row is not None
    await queue.enqueue(session, SEND_QUOTE_JOB, {"quote_id": str(quote_id)}, client_id=before["client_id"])
    if before["evolution_id"] is not None:
        await _link_evolution(session, before["evolution_id"], quote_id)
    after = QuoteRead(**dict(row))
    await audit.record(
        session, action="billing.quote_sent", entity_type="billing_quote", entity_id=quote_id,
        client_id=before["client_id"], before=QuoteRead(**dict(before)), after=after,
    )  # fmt: skip
    return after


def _decision_record(
    session: UserSession, quote: asyncpg.Record, decision: str, reason: str | None, ip: str | None, agent: str | None
) -> dict[str, Any]:
    decided_at = datetime.now(UTC)
    return {
        "quote_id": str(quote["id"]), "client_id": str(quote["client_id"]), "quote_number": quote["quote_number"],
        "pennylane_id": quote["pennylane_id"], "decision": decision, "reason": reason,
        "user_id": str(session.principal.user_id), "user_email": session.principal.email or None,
        "ip": (ip or "")[:64] or None, "user_agent": (agent or "")[:1000] or None,
        "pdf_sha256": quote["pdf_sha256"], "amount": str(quote["amount"]), "currency": quote["currency"],
        "decided_at": decided_at.isoformat(),
    }  # fmt: skip


async def decide(
    session: UserSession,
    settings: Settings,
    quote_id: UUID,
    decision: Literal["accepted", "declined"],
    reason: str | None,
    *,
    ip: str | None,
    user_agent: str | None,
) -> AcceptanceRead:
    """A member accepts or declines a sent quote: the signed record is stored in one SQL call and a job
    tells Pennylane."""
    if session.principal.is_operator:
        raise DecisionForbidden()
    quote = await load(session, quote_id)
    if quote["status"] != "pending":
        raise BillingStateConflict(f"this quote is {quote['status']}: it cannot be decided now")
    if quote["pdf_sha256"] is None:
        raise BillingStateConflict("the quote's PDF is not available yet: try again in a minute")
    payload = _decision_record(session, quote, decision, reason, ip, user_agent)
    signature = service.sign(settings, payload)
    record = {
        **payload, "amount_decimal": quote["amount"], "decided_at_value": datetime.fromisoformat(payload["decided_at"]),
        "payload": payload,
    }  # fmt: skip
    try:
        await repository.decide_quote(session, quote_id, record, signature)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == "FX404":
            raise QuoteNotFound() from None
        if exc.sqlstate == "FX409":
            raise BillingStateConflict(str(exc.args[0])) from None
        raise
    key = f"{PUSH_QUOTE_STATUS_JOB}:{quote_id}"
    await queue.enqueue(
        session, PUSH_QUOTE_STATUS_JOB, {"quote_id": str(quote_id)}, idempotency_key=key, client_id=quote["client_id"]
    )
    row = await repository.acceptance(session, quote_id)
    assert row is not None
    return AcceptanceRead(**dict(row))
