"""The Pennylane client methods billing added: draft update (PUT), credit-note link, subscription update
and the PDF download that never leaves Pennylane's host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from integrations.errors import IntegrationError
from integrations.pennylane import (
    BillingSubscriptionUpdate,
    CustomerInvoiceUpdate,
    InvoiceLineInput,
    PennylaneClient,
)
from tests.billing.conftest import PDF_BYTES, recorded


@pytest.fixture
async def pennylane_client() -> AsyncIterator[PennylaneClient]:
    async with PennylaneClient("pl-test-token") as client:
        yield client


async def test_update_customer_invoice_puts_the_draft(
    pennylane_client: PennylaneClient, pennylane: respx.MockRouter
) -> None:
    draft = recorded("pennylane_customer_invoice_get_draft")
    route = pennylane.put(f"/customer_invoices/{draft['id']}").mock(return_value=httpx.Response(200, json=draft))
    line = InvoiceLineInput(
        quantity=1, label="Atelier", raw_currency_unit_price="400.00", unit="piece", vat_rate="FR_200"
    )
    invoice = await pennylane_client.update_customer_invoice(draft["id"], CustomerInvoiceUpdate(invoice_lines=[line]))
    assert invoice.id == draft["id"] and invoice.draft is True
    assert json.loads(route.calls.last.request.content) == {
        "invoice_lines": [
            {
                "quantity": 1,
                "label": "Atelier",
                "raw_currency_unit_price": "400.00",
                "unit": "piece",
                "vat_rate": "FR_200",
            }
        ]
    }
    assert route.calls.last.request.headers["authorization"] == "Bearer pl-test-token"


async def test_link_credit_note_and_subscription_update(
    pennylane_client: PennylaneClient, pennylane: respx.MockRouter
) -> None:
    link = pennylane.post("/customer_invoices/10/link_credit_note").mock(return_value=httpx.Response(204))
    await pennylane_client.link_credit_note(10, 20)
    assert json.loads(link.calls.last.request.content) == {"credit_note_id": 20}
    put = pennylane.put("/billing_subscriptions/5").mock(
        return_value=httpx.Response(200, json={"id": 5, "status": "stopped"})
    )
    updated = await pennylane_client.update_billing_subscription(5, BillingSubscriptionUpdate(status="stopped"))
    assert updated.status == "stopped" and json.loads(put.calls.last.request.content) == {"status": "stopped"}


async def test_pdf_download_stays_on_pennylanes_host(
    pennylane_client: PennylaneClient, pennylane: respx.MockRouter
) -> None:
    url = "https://app.pennylane.com/public/invoice/pdf?encrypted_id=x"
    pennylane.get(url).mock(return_value=httpx.Response(200, content=PDF_BYTES))
    assert await pennylane_client.download_public_file(url) == PDF_BYTES
    for foreign in ("https://evil.example/pdf", "http://app.pennylane.com/public/invoice/pdf"):
        with pytest.raises(IntegrationError):
            await pennylane_client.download_public_file(foreign)
