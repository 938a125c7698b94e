"""Request and response models of the billing module. Money is `Decimal` (a JSON string on the way out)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.core.input_types import Bool, Int, IsoDate
from services.core.schemas import Timestamp

CustomerKind = Literal["company", "individual"]
OperationNature = Literal["goods", "services", "mixed"]
# Pennylane's VAT codes for France (FR_200 is 20 %, FR_55 is 5.5 %...); `exempt` has no VAT.
VatRate = Literal["FR_200", "FR_100", "FR_85", "FR_55", "FR_21", "FR_09", "exempt"]
DiscountType = Literal["absolute", "relative"]
PaymentMethod = Literal["transfer", "cheque", "cash", "other"]
PaymentKind = Literal["payment", "deposit"]
InvoiceKind = Literal["invoice", "credit_note"]
InvoiceState = Literal["draft", "finalized", "unpaid", "paid"]
PushState = Literal["none", "pending", "done", "failed"]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Mention = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Siren = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
Siret = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$")]
VatNumber = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}[0-9A-Z]{2,13}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=9, decimal_places=3)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=6)]
PaymentConditions = Literal["upon_receipt", "15_days", "30_days", "45_days", "60_days"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- customers


class Address(Strict):
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    country_alpha2: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "FR"


class CustomerWrite(Strict):
    """A client's billing identity; `delivery_address` only when deliveries go elsewhere."""

    kind: CustomerKind
    legal_name: Text200
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    siren: Siren | None = None
    siret: Siret | None = None
    vat_number: VatNumber | None = None
    billing_address: Address
    delivery_address: Address | None = None
    emails: list[Email] = Field(default_factory=list, max_length=20)
    payment_conditions: PaymentConditions = "30_days"

    @model_validator(mode="after")
    def _coherent(self) -> CustomerWrite:
        if self.siren and self.siret and not self.siret.startswith(self.siren):
            raise ValueError("the SIRET must start with the SIREN")
        if self.siret and not self.siren:
            self.siren = self.siret[:9]
        if self.kind == "individual" and not (self.first_name and self.last_name):
            raise ValueError("an individual customer needs first_name and last_name")
        return self


class CustomerRead(BaseModel):
    client_id: UUID
    pennylane_id: int | None
    kind: CustomerKind
    legal_name: str
    first_name: str | None
    last_name: str | None
    siren: str | None
    siret: str | None
    vat_number: str | None
    billing_address: dict[str, str]
    delivery_address: dict[str, str] | None
    emails: list[str]
    payment_conditions: str
    push_state: PushState
    push_error: str | None
    pennylane_updated_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


# ---------------------------------------------------------------- lines


class LineInput(Strict):
    """A product line (`product_id`: label, price and VAT default to the product's) or a free line."""

    product_id: UUID | None = None
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = None
    description: LongText | None = None
    quantity: Quantity
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] = "piece"
    unit_price: UnitPrice | None = None
    vat_rate: VatRate | None = None
    discount_type: DiscountType | None = None
    discount_value: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> LineInput:
        if self.product_id is None and (self.label is None or self.unit_price is None or self.vat_rate is None):
            raise ValueError("a free line needs label, unit_price and vat_rate")
        if (self.discount_type is None) != (self.discount_value is None):
            raise ValueError("discount_type and discount_value go together")
        if self.discount_type == "relative" and self.discount_value is not None and self.discount_value > 100:
            raise ValueError("a relative discount is at most 100 (%)")
        return self


class LineRead(BaseModel):
    id: UUID
    position: int
    product_id: UUID | None
    label: str
    description: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: str
    discount_type: DiscountType | None
    discount_value: Decimal | None
    amount_before_tax: Decimal
    tax: Decimal
    amount: Decimal


class DocumentFields(Strict):
    """What quotes and invoices share, including the e-invoicing mentions (operation nature, VAT on debits)."""

    label: Label = ""
    issue_date: IsoDate | None = Field(None, description="Default: today (Europe/Paris)")
    operation_nature: OperationNature | None = Field(None, description="Goods, services or both (mandatory mention)")
    vat_on_debits: Bool = Field(False, description="MiKL opted to pay VAT on debits (printed as a mention)")
    special_mention: Mention | None = None
    lines: list[LineInput] = Field(min_length=1, max_length=100)


# ---------------------------------------------------------------- quotes


class QuoteWrite(DocumentFields):
    valid_until: IsoDate


class QuoteCreate(QuoteWrite):
    client_id: UUID
    evolution_id: UUID | None = Field(None, description="The evolution request this quote answers")


class QuoteRead(BaseModel):
    id: UUID
    client_id: UUID
    pennylane_id: int | None
    quote_number: str | None
    status: str
    label: str
    currency: str
    issue_date: date
    valid_until: date
    amount_before_tax: Decimal
    tax: Decimal
    amount: Decimal
    operation_nature: OperationNature | None
    vat_on_debits: bool
    special_mention: str | None
    pdf_url: str | None
    pdf_sha256: str | None
    evolution_id: UUID | None
    sent_at: Timestamp | None
    decided_at: Timestamp | None
    decline_reason: str | None
    push_state: PushState
    push_error: str | None
    created_at: Timestamp
    updated_at: Timestamp


class AcceptanceRead(BaseModel):
    id: UUID
    quote_id: UUID
    decision: Literal["accepted", "declined"]
    reason: str | None
    user_id: UUID
    user_email: str | None
    ip: str | None
    user_agent: str | None
    pdf_sha256: str
    amount: Decimal
    currency: str
    decided_at: Timestamp
    signature: str


class QuoteDetail(QuoteRead):
    lines: list[LineRead]
    decision: AcceptanceRead | None


class QuoteDecline(Strict):
    reason: LongText


# ---------------------------------------------------------------- invoices


class InvoiceWrite(DocumentFields):
    due_date: IsoDate


class InvoiceCreate(InvoiceWrite):
    client_id: UUID


class CreditNoteCreate(Strict):
    """Credit the whole invoice (no `lines`) or part of it (the lines credited, positive amounts)."""

    lines: list[LineInput] | None = Field(None, min_length=1, max_length=100)
    label: Label = ""


class InvoiceRead(BaseModel):
    id: UUID
    client_id: UUID
    pennylane_id: int | None
    kind: InvoiceKind
    invoice_number: str
    status: str
    draft: bool
    paid: bool
    label: str
    currency: str
    issue_date: date
    due_date: date
    amount_before_tax: Decimal
    tax: Decimal
    amount: Decimal
    remaining_amount: Decimal | None
    paid_amount: Decimal
    balance: Decimal = Field(description="amount - paid_amount: what Foxeo still expects")
    paid_at: Timestamp | None
    operation_nature: OperationNature | None
    vat_on_debits: bool
    special_mention: str | None
    pdf_url: str | None
    quote_id: UUID | None
    subscription_id: UUID | None
    credited_invoice_id: UUID | None
    finalized_at: Timestamp | None
    sent_at: Timestamp | None
    push_state: PushState
    push_error: str | None
    created_at: Timestamp
    updated_at: Timestamp


class PaymentCreate(Strict):
    method: PaymentMethod
    kind: PaymentKind = "payment"
    amount: Money
    currency: Currency = "EUR"
    paid_on: IsoDate
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class PaymentRead(BaseModel):
    id: UUID
    client_id: UUID
    invoice_id: UUID
    method: str
    kind: PaymentKind
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None
    note: str | None
    created_at: Timestamp


class InvoiceDetail(InvoiceRead):
    lines: list[LineRead]
    payments: list[PaymentRead]


class PdfLink(BaseModel):
    url: str


# ---------------------------------------------------------------- subscriptions


class SubscriptionCreate(Strict):
    client_id: UUID
    label: Text200
    amount_before_tax: Money
    vat_rate: VatRate = "FR_200"
    start_date: IsoDate
    interval_months: Annotated[Int, Field(ge=1, le=12)] = 1
    operation_nature: OperationNature
    vat_on_debits: Bool = False
    payment_conditions: PaymentConditions = "30_days"


class SubscriptionRead(BaseModel):
    id: UUID
    client_id: UUID
    pennylane_id: int | None
    status: str
    label: str
    amount_before_tax: Decimal
    vat_rate: str
    currency: str
    interval_months: int
    start_date: date
    next_occurrence: date | None
    payment_conditions: str
    operation_nature: OperationNature
    vat_on_debits: bool
    paused_at: Timestamp | None
    cancelled_at: Timestamp | None
    push_state: PushState
    push_error: str | None
    created_at: Timestamp
    updated_at: Timestamp
