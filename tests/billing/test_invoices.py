"""Invoices and credit notes: drafted, pushed, updated with PUT, finalized and sent through jobs;
payments recorded against them; the client's read-only view."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import respx

from tests.billing.conftest import API, FREE_LINE, mock_customer_link, ok, recorded, run_jobs, set_identity
from tests.conftest import Tenant, User

DRAFT = recorded("pennylane_customer_invoice_create")
FINAL = recorded("pennylane_customer_invoice_get_finalized_upcoming")


async def drafted(
    app: Any, client: httpx.AsyncClient, operator: User, tenant: Tenant, pennylane: respx.MockRouter
) -> Any:
    await set_identity(client, operator, tenant)
    mock_customer_link(pennylane)
    pennylane.get("/customer_invoices").mock(return_value=httpx.Response(200, json={"items": [], "has_more": False}))
    pennylane.post("/customer_invoices").mock(return_value=httpx.Response(200, json=DRAFT))
    body = {
        "client_id": str(tenant.id), "due_date": "2099-01-31", "operation_nature": "services", "vat_on_debits": True,
        "lines": [{**FREE_LINE, "quantity": "1", "unit_price": "500"}],
    }  # fmt: skip
    invoice = ok(await client.post(f"{API}/invoices", json=body, headers=operator.headers), 201)
    assert (invoice["amount"], invoice["push_state"], invoice["pennylane_id"]) == ("600.00", "pending", None)
    await run_jobs(app)
    return invoice


async def finalized(
    app: Any, client: httpx.AsyncClient, operator: User, tenant: Tenant, pennylane: respx.MockRouter
) -> Any:
    invoice = await drafted(app, client, operator, tenant, pennylane)
    # The job sends the draft's latest content before finalizing it (an edit may still be on its way).
    pennylane.put(f"/customer_invoices/{DRAFT['id']}").mock(return_value=httpx.Response(200, json=DRAFT))
    pennylane.put(f"/customer_invoices/{DRAFT['id']}/finalize").mock(return_value=httpx.Response(200, json=FINAL))
    ok(await client.post(f"{API}/invoices/{invoice['id']}/finalize", headers=operator.headers), 202)
    await run_jobs(app)
    return ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=operator.headers))


async def test_a_draft_goes_to_pennylane_then_updates_with_put(
    app: Any, client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pennylane: respx.MockRouter
) -> None:
    invoice = await drafted(app, client, operator, tenant_a, pennylane)
    (creation,) = [
        c for c in pennylane.calls if c.request.method == "POST" and c.request.url.path.endswith("_invoices")
    ]
    body = json.loads(creation.request.content)
    assert body["draft"] is True and body["external_reference"] == f"foxeo:{invoice['id']}"
    assert "Option pour le paiement de la taxe d'après les débits" in body["special_mention"]
    assert body["invoice_lines"][0] == {
        "quantity": 1, "label": "Atelier de cadrage", "raw_currency_unit_price": "500.000000", "unit": "piece",
        "vat_rate": "FR_200",
    }  # fmt: skip
    pushed = ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=operator.headers))
    assert (pushed["pennylane_id"], pushed["status"], pushed["push_state"]) == (DRAFT["id"], "draft", "done")

    put = pennylane.put(f"/customer_invoices/{DRAFT['id']}").mock(return_value=httpx.Response(200, json=DRAFT))
    update = {"due_date": "2099-02-28", "operation_nature": "services", "lines": [FREE_LINE], "label": "Refonte"}
    updated = ok(await client.put(f"{API}/invoices/{invoice['id']}", json=update, headers=operator.headers))
    assert (updated["amount"], updated["label"]) == ("960.00", "Refonte")
    await run_jobs(app)
    sent = json.loads(put.calls.last.request.content)
    assert (sent["deadline"], sent["label"], sent["invoice_lines"][0]["quantity"]) == ("2099-02-28", "Refonte", 2)
    r = await client.put(
        f"{API}/invoices/{invoice['id']}", json={**update, "operation_nature": None}, headers=operator.headers
    )
    assert r.status_code == 422 and r.json()["mention"] == "operation_nature"


async def test_finalize_send_pay_and_the_clients_view(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter,
) -> None:  # fmt: skip
    r = await client.get(f"{API}/invoices", params={"client_id": str(tenant_a.id)}, headers=tenant_a.member.headers)
    assert ok(r)["items"] == []
    invoice = await finalized(app, client, operator, tenant_a, pennylane)
    assert (invoice["draft"], invoice["invoice_number"], invoice["status"]) == (False, "TEST-001", "upcoming")
    assert invoice["finalized_at"] is not None
    member = tenant_a.member.headers
    assert (
        ok(await client.get(f"{API}/invoices/{invoice['id']}/pdf", headers=member))["url"] == FINAL["public_file_url"]
    )

    send = pennylane.post(f"/customer_invoices/{FINAL['id']}/send_by_email").mock(return_value=httpx.Response(204))
    ok(await client.post(f"{API}/invoices/{invoice['id']}/send", headers=operator.headers), 202)
    await run_jobs(app)
    assert json.loads(send.calls.last.request.content) == {"recipients": ["compta@alpha.example"]}
    notified = "select title from public.notifications where user_id = $1 and entity_type = 'billing_invoice'"
    assert await sql.fetchval(notified, tenant_a.member.id) == "Nouvelle facture TEST-001"

    payments = f"{API}/invoices/{invoice['id']}/payments"
    cheque = {"method": "cheque", "amount": "100.00", "paid_on": "2026-11-02", "reference": "CHQ 0042"}
    assert (await client.post(payments, json=cheque, headers=member)).status_code == 403
    ok(await client.post(payments, json=cheque, headers=operator.headers), 201)
    too_much = {"method": "transfer", "amount": "900.00", "paid_on": "2026-11-03", "reference": "VIR"}
    r = await client.post(payments, json=too_much, headers=operator.headers)
    assert r.status_code == 422 and "balance" in r.text
    mark = pennylane.put(f"/customer_invoices/{FINAL['id']}/mark_as_paid").mock(return_value=httpx.Response(204))
    ok(await client.post(payments, json={**too_much, "amount": "500.00"}, headers=operator.headers), 201)
    await run_jobs(app)
    assert mark.call_count == 1
    paid = ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=member))
    assert (paid["paid_amount"], paid["balance"], paid["paid"]) == ("600.00", "0.00", True)
    assert [p["reference"] for p in paid["payments"]] == ["CHQ 0042", "VIR"]
    history = ok(await client.get(f"{API}/clients/{tenant_a.id}/payments", params={"limit": 1}, headers=member))
    assert len(history["items"]) == 1 and history["next_cursor"] is not None
    rest = ok(
        await client.get(
            f"{API}/clients/{tenant_a.id}/payments", params={"cursor": history["next_cursor"]}, headers=member
        )
    )
    assert {history["items"][0]["reference"], rest["items"][0]["reference"]} == {"CHQ 0042", "VIR"}
    audited = "select count(*) from public.audit_log where action = 'billing.payment_recorded' and client_id = $1"
    assert await sql.fetchval(audited, tenant_a.id) == 2


async def test_credit_notes_are_typed_as_such_and_never_lost_by_the_draft_filter(
    app: Any, client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pennylane: respx.MockRouter
) -> None:
    invoice = await finalized(app, client, operator, tenant_a, pennylane)
    url = f"{API}/invoices/{invoice['id']}/credit-notes"
    r = await client.post(url, json={"lines": [{**FREE_LINE, "quantity": "3"}]}, headers=operator.headers)
    assert r.status_code == 422  # more than the invoice
    link = pennylane.post(f"/customer_invoices/{FINAL['id']}/link_credit_note").mock(return_value=httpx.Response(204))
    credit = ok(await client.post(url, json={}, headers=operator.headers), 201)
    assert (credit["kind"], credit["status"], credit["draft"], credit["amount"]) == (
        "credit_note",
        "credit_note",
        True,
        "-600.00",
    )
    assert credit["credited_invoice_id"] == invoice["id"]
    await run_jobs(app)
    assert json.loads(link.calls.last.request.content) == {"credit_note_id": DRAFT["id"]}
    drafts = ok(await client.get(f"{API}/invoices", params={"status": "draft"}, headers=operator.headers))
    assert [i["id"] for i in drafts["items"]] == [credit["id"]]
    notes = ok(await client.get(f"{API}/invoices", params={"kind": "credit_note"}, headers=operator.headers))
    assert [i["id"] for i in notes["items"]] == [credit["id"]]
    r = await client.post(url, json={}, headers=operator.headers)
    assert r.status_code == 422  # the invoice is already fully credited
