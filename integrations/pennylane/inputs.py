"""Pennylane v2 request bodies (integrations-reference §1.5); `body()` gives the JSON to send.

Extra fields are allowed so a caller can pass a documented field not modelled here without waiting
for this module. Money goes out as decimal strings, as in the live requests.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from integrations.pennylane.models import Address


class PennylaneInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    def body(self) -> dict[str, Any]:
        # exclude_unset rather than exclude_none: an update may need to send an explicit null.
        return self.model_dump(mode="json", exclude_unset=True)


class DiscountInput(PennylaneInput):
    type: Literal["absolute", "relative"]
    value: Decimal


class InvoiceLineInput(PennylaneInput):
    """A product line (`product_id` + `quantity`, optional overrides) or a free line
    (`label`, `raw_currency_unit_price` before tax, `unit`, `vat_rate` such as "FR_200", `quantity`)."""

    quantity: Decimal
    product_id: int | None = None
    label: str | None = None
    raw_currency_unit_price: Decimal | None = None
    unit: str | None = None
    vat_rate: str | None = None
    description: str | None = None
    section_rank: int | None = None
    discount: DiscountInput | None = None
    ledger_account_id: int | None = None

    @field_serializer("quantity")
    def _quantity(self, value: Decimal) -> int | float:
        # The live bodies send quantity as a JSON number; only money is a decimal string.
        return int(value) if value == value.to_integral_value() else float(value)


class InvoiceLineSectionInput(PennylaneInput):
    title: str
    description: str | None = None
    rank: int


class _DocumentInput(PennylaneInput):
    customer_id: int
    date: dt.date
    deadline: dt.date
    invoice_lines: list[InvoiceLineInput]
    label: str | None = None
    currency: str | None = None
    language: str | None = None
    external_reference: str | None = None
    pdf_invoice_free_text: str | None = None
    pdf_invoice_subject: str | None = None
    pdf_description: str | None = None
    special_mention: str | None = None
    discount: DiscountInput | None = None
    invoice_line_sections: list[InvoiceLineSectionInput] | None = None


class CustomerInvoiceCreate(_DocumentInput):
    """`draft=False` creates a finalized invoice straight away (needs an invoice numbering set up)."""

    draft: bool
    customer_invoice_template_id: int | None = None


class CustomerInvoiceUpdate(PennylaneInput):
    """`PUT /customer_invoices/{id}` on a draft: the fields of the creation, each optional (shaped on the
    API reference; no live recording). `invoice_lines` replaces the lines."""

    customer_id: int | None = None
    date: dt.date | None = None
    deadline: dt.date | None = None
    invoice_lines: list[InvoiceLineInput] | None = None
    label: str | None = None
    currency: str | None = None
    language: str | None = None
    external_reference: str | None = None
    pdf_invoice_free_text: str | None = None
    pdf_invoice_subject: str | None = None
    pdf_description: str | None = None
    special_mention: str | None = None
    discount: DiscountInput | None = None


class QuoteCreate(_DocumentInput):
    quote_template_id: int | None = None


class _CustomerFields(PennylaneInput):
    billing_address: Address | None = None
    delivery_address: Address | None = None
    emails: list[str] | None = None
    phone: str | None = None
    recipient: str | None = None
    reference: str | None = None
    external_reference: str | None = None
    notes: str | None = None
    payment_conditions: str | None = None
    billing_iban: str | None = None
    billing_language: str | None = None


class CompanyCustomerUpdate(_CustomerFields):
    name: str | None = None
    vat_number: str | None = None
    reg_no: str | None = None


class CompanyCustomerCreate(CompanyCustomerUpdate):
    name: str
    billing_address: Address


class IndividualCustomerUpdate(_CustomerFields):
    first_name: str | None = None
    last_name: str | None = None


class IndividualCustomerCreate(IndividualCustomerUpdate):
    first_name: str
    last_name: str
    billing_address: Address


class EmailSettingsInput(PennylaneInput):
    recipients: list[str]


class SubscriptionModeInput(PennylaneInput):
    type: str  # "email" | "awaiting_validation" | ...
    email_settings: EmailSettingsInput | None = None


class RecurringRuleInput(PennylaneInput):
    type: str  # "monthly" | "yearly" | "weekly" | ...
    interval: int
    count: int | None = None


class SubscriptionInvoiceData(PennylaneInput):
    invoice_lines: list[InvoiceLineInput]
    currency: str | None = None
    language: str | None = None
    customer_invoice_template_id: int | None = None
    pdf_invoice_free_text: str | None = None
    pdf_invoice_subject: str | None = None
    pdf_description: str | None = None
    special_mention: str | None = None
    discount: DiscountInput | None = None
    invoice_line_sections: list[InvoiceLineSectionInput] | None = None


class BillingSubscriptionUpdate(PennylaneInput):
    """`PUT /billing_subscriptions/{id}`. UNVERIFIED: no recording; `status` "stopped" ends a subscription
    and "paused" suspends it (documented statuses: in_progress, stopped, finished)."""

    status: str | None = None
    mode: SubscriptionModeInput | None = None
    payment_conditions: str | None = None
    customer_invoice_data: SubscriptionInvoiceData | None = None


class BillingSubscriptionCreate(PennylaneInput):
    """Shaped on the docs example (not a live recording)."""

    customer_id: int
    start: dt.date
    mode: SubscriptionModeInput
    payment_conditions: str
    payment_method: str  # "offline" | "gocardless_direct_debit"
    recurring_rule: RecurringRuleInput
    customer_invoice_data: SubscriptionInvoiceData
