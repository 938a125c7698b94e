"""Request and response bodies of the billing sync and payment routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.core.input_types import IsoDate
from services.core.schemas import Timestamp

LinkStatus = Literal["pending", "open", "complete", "expired"]
SyncResourceName = Literal["customers", "products", "quotes", "customer_invoices"]
ExportStatus = Literal["queued", "pending", "ready", "failed"]
Mismatch = Literal[
    "not_in_pennylane",
    "stripe_paid_pennylane_open",
    "stripe_paid_foxeo_open",
    "pennylane_paid_foxeo_open",
    "foxeo_paid_pennylane_open",
    "pennylane_balance_differs",
    "stripe_link_open_on_paid_invoice",
    "stripe_link_amount_differs",
]


class PaymentLinkRead(BaseModel):
    invoice_id: UUID
    status: LinkStatus  # pending: a job is making the link, ask again in a moment
    url: str | None
    amount: Decimal
    currency: str
    expires_at: Timestamp | None

    @classmethod
    def from_link(cls, row: Any) -> PaymentLinkRead:
        return cls(
            invoice_id=row["invoice_id"], status=row["status"], url=row["url"], amount=row["amount"],
            currency=row["currency"], expires_at=row["expires_at"],
        )  # fmt: skip


class SyncResourceStatus(BaseModel):
    resource: SyncResourceName
    cursor_at: Timestamp | None  # the last Pennylane change applied
    lag_seconds: int | None  # how far behind now the cursor is
    last_run_at: Timestamp | None
    last_success_at: Timestamp | None
    last_mode: Literal["incremental", "full"] | None
    last_changes: int
    last_error: str | None
    last_error_at: Timestamp | None


class SyncStatus(BaseModel):
    configured: bool  # PENNYLANE_API_TOKEN is set
    interval_seconds: int
    resources: list[SyncResourceStatus]


class ReconciliationRow(BaseModel):
    invoice_id: UUID
    client_id: UUID
    invoice_number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    foxeo_status: Literal["open", "partial", "paid"]  # from the payments recorded in Foxeo
    foxeo_paid_amount: Decimal
    pennylane_status: str  # Pennylane's status, `missing` when the invoice is not there
    pennylane_paid: bool
    pennylane_remaining: Decimal | None
    stripe_status: Literal["none", "open", "expired", "paid"]
    stripe_paid_amount: Decimal
    mismatches: list[Mismatch]


class RevenueMonth(BaseModel):
    month: date  # the first day of the month
    invoiced: Decimal  # finalized invoices less credit notes, by issue date
    collected: Decimal  # payments received, by payment date


class RevenueClient(BaseModel):
    client_id: UUID
    invoiced: Decimal
    collected: Decimal
    outstanding: Decimal


class RevenueReport(BaseModel):
    currency: str
    start: date
    end: date
    months: list[RevenueMonth]
    outstanding: Decimal  # still owed today, whatever the month
    overdue: Decimal  # of which past its due date
    clients: list[RevenueClient]


class ExportCreate(BaseModel):
    period_start: IsoDate
    period_end: IsoDate


class ExportRead(BaseModel):
    id: UUID
    kind: Literal["fec"]
    period_start: date
    period_end: date
    status: ExportStatus
    size_bytes: int | None
    sha256: str | None
    error: str | None
    requested_by: UUID | None
    created_at: Timestamp
    updated_at: Timestamp


class ExportDownload(BaseModel):
    url: str = Field(description="a short-lived link to the file")
    expires_at: Timestamp
    file_name: str
