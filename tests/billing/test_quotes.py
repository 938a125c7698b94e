"""Quotes: drafted and sent by the operator (Pennylane in a job), decided by the client's members with
a signed proof, turned into an invoice."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import asyncpg
import httpx
import respx

from services.billing import service
from services.core.settings import Settings
from tests.billing.conftest import API, FREE_LINE, PDF_BYTES, mock_customer_link, ok, recorded, run_jobs, set_identity
from tests.conftest import Tenant, User

PDF_URL = "https://app.pennylane.com/public/invoice/pdf?encrypted_id=abc"


async def draft(client: httpx.AsyncClient, operator: User, tenant: Tenant, **changes: Any) -> Any:
    body = {
        "client_id": str(tenant.id), "label": "Refonte", "valid_until": "2099-12-31",
        "operation_nature": "services", "lines": [FREE_LINE], **changes,
    }  # fmt: skip
    return ok(await client.post(f"{API}/quotes", json=body, headers=operator.headers), 201)


def mock_quote(pennylane: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    created = recorded("pennylane_quote_create")
    created["public_file_url"] = PDF_URL
    create = pennylane.post("/quotes").mock(return_value=httpx.Response(200, json=created))
    send = pennylane.post(f"/quotes/{created['id']}/send_by_email").mock(
        side_effect=[httpx.Response(409, json={"error": "PDF not generated yet"}), httpx.Response(204)]
    )
    pennylane.get(PDF_URL).mock(return_value=httpx.Response(200, content=PDF_BYTES))
    return create, send


async def sent_quote(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant: Tenant,
    pennylane: respx.MockRouter,
) -> Any:  # fmt: skip
    await set_identity(client, operator, tenant)
    mock_customer_link(pennylane)
    mock_quote(pennylane)
    quote = await draft(client, operator, tenant)
    ok(await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers), 202)
    await run_jobs(app)  # 409: the PDF is not ready, the job is retried later
    await sql.execute("update public.jobs set run_after = now() where status = 'failed'")
    await run_jobs(app)
    return quote


async def test_a_draft_is_priced_and_hidden_from_the_client(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    line = {**FREE_LINE, "discount_type": "relative", "discount_value": "10"}
    quote = await draft(client, operator, tenant_a, lines=[line])
    assert (quote["status"], quote["amount_before_tax"], quote["tax"], quote["amount"]) == (
        "draft", "720.00", "144.00", "864.00",
    )  # fmt: skip
    assert quote["lines"][0]["amount"] == "864.00"
    listed = ok(
        await client.get(f"{API}/quotes", params={"client_id": str(tenant_a.id)}, headers=tenant_a.member.headers)
    )
    assert listed["items"] == []
    r = await client.get(f"{API}/quotes/{quote['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 404


async def test_sending_needs_the_e_invoicing_mentions_and_writes_nothing_without_them(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    quote = await draft(client, operator, tenant_a, operation_nature=None)
    r = await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers)
    assert r.status_code == 422 and "client_id" in r.text  # no billing identity at all
    await set_identity(client, operator, tenant_a, siret=None, vat_number=None)
    r = await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers)
    assert r.status_code == 422 and r.json()["mention"] == "siren"
    await set_identity(client, operator, tenant_a)
    r = await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers)
    assert r.status_code == 422 and r.json()["mention"] == "operation_nature"
    assert await sql.fetchval("select count(*) from public.jobs where kind like 'billing.%'") == 0
    assert await sql.fetchval("select push_state from public.billing_quotes where id = $1", quote["id"]) == "none"


async def test_sending_without_pennylane_is_a_503_naming_the_setting(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, settings: Settings, app: Any
) -> None:
    app.state.settings = settings.model_copy(update={"pennylane_api_token": None})
    quote = await draft(client, operator, tenant_a)
    r = await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers)
    assert r.status_code == 503 and "PENNYLANE_API_TOKEN" in r.text


async def test_sent_quote_is_accepted_with_a_signed_proof_and_becomes_an_invoice(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter, settings: Settings,
) -> None:  # fmt: skip
    quote = await sent_quote(app, client, sql, operator, tenant_a, pennylane)
    created = recorded("pennylane_quote_create")
    sent = ok(await client.get(f"{API}/quotes/{quote['id']}", headers=tenant_a.member.headers))
    assert (sent["status"], sent["pennylane_id"], sent["push_state"]) == ("pending", created["id"], "done")
    assert sent["pdf_sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    (creation,) = [
        json.loads(call.request.content) for call in pennylane.calls
        if call.request.method == "POST" and call.request.url.path.endswith("/quotes")
    ]  # fmt: skip
    assert creation["customer_id"] == recorded("pennylane_company_customer_create")["id"]
    assert "SIREN du client : 732829320" in creation["special_mention"]
    assert "Prestation de services" in creation["special_mention"]
    notified = "select count(*) from public.notifications where user_id = $1 and entity_type = 'billing_quote'"
    assert await sql.fetchval(notified, tenant_a.member.id) == 1

    r = await client.post(f"{API}/quotes/{quote['id']}/accept", headers=operator.headers)
    assert r.status_code == 403  # the operator does not accept for the client
    headers = {**tenant_a.member.headers, "user-agent": "Firefox/140"}
    decision = ok(await client.post(f"{API}/quotes/{quote['id']}/accept", headers=headers))
    assert (decision["decision"], decision["amount"], decision["user_agent"]) == ("accepted", "1200.00", "Firefox/140")
    stored = await sql.fetchrow(
        "select payload, signature from public.billing_quote_acceptances where id = $1", decision["id"]
    )
    payload = json.loads(stored["payload"])
    expected = hmac.new(service.acceptance_key(settings), service.canonical(payload), hashlib.sha256).hexdigest()
    assert stored["signature"] == decision["signature"] == expected
    assert payload["pdf_sha256"] == sent["pdf_sha256"] and payload["user_id"] == str(tenant_a.member.id)
    r = await client.post(f"{API}/quotes/{quote['id']}/decline", json={"reason": "trop cher"}, headers=headers)
    assert r.status_code == 409

    status = pennylane.put(f"/quotes/{created['id']}/update_status").mock(
        return_value=httpx.Response(200, json=recorded("pennylane_quote_update_status"))
    )
    from_quote = pennylane.post("/customer_invoices/create_from_quote").mock(
        return_value=httpx.Response(200, json=recorded("pennylane_customer_invoice_create"))
    )
    invoice = ok(await client.post(f"{API}/quotes/{quote['id']}/invoice", headers=operator.headers), 201)
    assert (invoice["quote_id"], invoice["amount"], invoice["draft"]) == (quote["id"], sent["amount"], True)
    await run_jobs(app)
    assert json.loads(status.calls.last.request.content) == {"status": "accepted"}
    assert json.loads(from_quote.calls.last.request.content) == {"quote_id": created["id"], "draft": True}
    invoiced = ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=operator.headers))
    assert invoiced["pennylane_id"] == recorded("pennylane_customer_invoice_create")["id"]
    r = await client.post(f"{API}/quotes/{quote['id']}/invoice", headers=operator.headers)
    assert r.status_code == 409


async def test_a_member_declines_with_a_reason(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter,
) -> None:  # fmt: skip
    quote = await sent_quote(app, client, sql, operator, tenant_a, pennylane)
    r = await client.post(f"{API}/quotes/{quote['id']}/decline", json={}, headers=tenant_a.member.headers)
    assert r.status_code == 422
    decision = ok(
        await client.post(
            f"{API}/quotes/{quote['id']}/decline", json={"reason": "Budget"}, headers=tenant_a.member.headers
        )
    )
    assert (decision["decision"], decision["reason"]) == ("declined", "Budget")
    detail = ok(await client.get(f"{API}/quotes/{quote['id']}", headers=operator.headers))
    assert (detail["status"], detail["decline_reason"], detail["decision"]["id"]) == (
        "declined",
        "Budget",
        decision["id"],
    )
    audited = "select count(*) from public.audit_log where action = 'billing.quote_declined' and entity_id = $1"
    assert await sql.fetchval(audited, quote["id"]) == 1


async def test_a_quote_answers_an_evolution_request(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter,
) -> None:  # fmt: skip
    await sql.execute("update public.clients set status = 'one' where id = $1", tenant_a.id)
    evolution = ok(
        await client.post(
            "/api/v1/evolutions", json={"client_id": str(tenant_a.id), "title": "Export", "description": "CSV"},
            headers=tenant_a.member.headers,
        ),
        201,
    )  # fmt: skip
    await set_identity(client, operator, tenant_a)
    quote = await draft(client, operator, tenant_a, evolution_id=evolution["id"])
    ok(await client.post(f"{API}/quotes/{quote['id']}/send", headers=operator.headers), 202)
    linked = ok(await client.get(f"/api/v1/evolutions/{evolution['id']}", headers=tenant_a.member.headers))
    assert (linked["status"], linked["quote_reference"]) == ("quoted", f"billing:{quote['id']}")
