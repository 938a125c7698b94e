"""A client's billing identity: set by the operator, read by the client's members, matched to an existing
Pennylane customer (by SIRET) on the first billing action, pushed on change; a refused push says why."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import respx

from tests.billing.conftest import API, IDENTITY, mock_customer_link, ok, recorded, run_jobs, set_identity
from tests.conftest import Tenant, User

LISTED = recorded("pennylane_customers_list")["items"][0]


async def test_identity_is_the_operators_to_set_and_the_members_to_read(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    url = f"{API}/customers/{tenant_a.id}"
    assert (await client.get(url, headers=tenant_a.member.headers)).status_code == 404
    assert (await client.put(url, json=IDENTITY, headers=tenant_a.member.headers)).status_code == 403
    r = await client.put(url, json={**IDENTITY, "siren": "123456789"}, headers=operator.headers)
    assert r.status_code == 422  # the SIRET does not start with that SIREN
    r = await client.put(url, json={**IDENTITY, "kind": "individual"}, headers=operator.headers)
    assert r.status_code == 422  # an individual needs a first and last name
    saved = await set_identity(client, operator, tenant_a)
    assert (saved["siren"], saved["push_state"], saved["pennylane_id"]) == ("732829320", "none", None)
    assert ok(await client.get(url, headers=tenant_a.member.headers))["legal_name"] == "Alpha Studio SAS"
    assert (await client.get(url, headers=tenant_b.member.headers)).status_code == 404


async def test_an_existing_pennylane_customer_is_matched_then_kept_up_to_date(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter,
) -> None:  # fmt: skip
    await set_identity(client, operator, tenant_a)
    search = pennylane.get("/customers").mock(
        return_value=httpx.Response(200, json={"items": [{**LISTED, "customer_type": "company"}], "has_more": False})
    )
    create = pennylane.post("/company_customers")
    await sql.execute(
        "select private.enqueue_job('billing.push_customer', jsonb_build_object('client_id', $1::uuid), null, null,"
        " $1::uuid, null)",
        tenant_a.id,
    )
    await run_jobs(app)
    assert json.loads(search.calls.last.request.url.params["filter"]) == [
        {"field": "reg_no", "operator": "eq", "value": "73282932000074"}
    ]
    assert not create.called
    linked = ok(await client.get(f"{API}/customers/{tenant_a.id}", headers=operator.headers))
    assert (linked["pennylane_id"], linked["push_state"]) == (LISTED["id"], "done")

    put = pennylane.put(f"/company_customers/{LISTED['id']}").mock(
        return_value=httpx.Response(200, json=recorded("pennylane_company_customer_create"))
    )
    changed = await set_identity(client, operator, tenant_a, legal_name="Alpha Studio Group")
    assert changed["push_state"] == "pending"
    await run_jobs(app)
    body = json.loads(put.calls.last.request.content)
    assert (body["name"], body["reg_no"], body["vat_number"]) == (
        "Alpha Studio Group",
        "73282932000074",
        "FR44732829320",
    )
    assert body["delivery_address"] == {"address": "", "postal_code": "", "city": "", "country_alpha2": ""}


async def test_a_refused_push_marks_the_document_failed_with_the_reason(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
    pennylane: respx.MockRouter,
) -> None:  # fmt: skip
    await set_identity(client, operator, tenant_a)
    mock_customer_link(pennylane)
    pennylane.post("/billing_subscriptions").mock(
        return_value=httpx.Response(422, json={"error": "unprocessable_entity", "message": "Invalid start date"})
    )
    body = {
        "client_id": str(tenant_a.id), "label": "Maintenance", "amount_before_tax": "200.00",
        "start_date": "2099-01-01", "operation_nature": "services",
    }  # fmt: skip
    created = ok(await client.post(f"{API}/subscriptions", json=body, headers=operator.headers), 201)
    await run_jobs(app)
    failed = ok(await client.get(f"{API}/subscriptions/{created['id']}", headers=operator.headers))
    assert failed["push_state"] == "failed" and "Invalid start date" in failed["push_error"]
    assert await sql.fetchval("select status from public.jobs where kind = 'billing.create_subscription'") == "dead"
