"""Evolution requests (One): the client asks, the operator estimates, quotes and delivers."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User, World

API = "/api/v1"


async def ask(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "client_id": str(tenant.id),
        "title": "Export comptable",
        "description": "Un export CSV mensuel",
        "desired_date": "2026-06-01",
        **fields,
    }
    r = await client.post(f"{API}/evolutions", headers=tenant.member.headers, json=body)
    assert r.status_code == 201, r.text
    evolution: dict[str, Any] = r.json()
    return evolution


async def move(
    client: httpx.AsyncClient, operator: User, evolution_id: str, status: str, **fields: Any
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/evolutions/{evolution_id}/status", headers=operator.headers, json={"status": status, **fields}
    )
    assert r.status_code == 200, r.text
    moved: dict[str, Any] = r.json()
    return moved


async def test_full_workflow_creates_and_drives_the_evolution_project(
    client: httpx.AsyncClient, reachable_operator: User, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    operator = reachable_operator
    evolution = await ask(client, tenant_b)
    assert evolution["status"] == "requested" and evolution["requested_by"] == str(tenant_b.member.id)
    assert [h["to_status"] for h in evolution["history"]] == ["requested"]
    assert await sql.fetchval("select user_id from notifications") == operator.id

    eid = evolution["id"]
    await move(client, operator, eid, "estimating", note="Je regarde ça")
    quoted = await move(client, operator, eid, "quoted", quote_reference="D-2026-042")
    assert quoted["quote_reference"] == "D-2026-042"
    accepted = await move(client, operator, eid, "accepted")
    project = (await client.get(f"{API}/projects/{accepted['project_id']}", headers=tenant_b.member.headers)).json()
    assert project["kind"] == "evolution" and project["status"] == "planned" and project["phase"] == "one"
    assert project["name"] == "Export comptable" and project["due_date"] == "2026-06-01"
    await move(client, operator, eid, "in_progress")
    assert await sql.fetchval("select status from projects where id = $1", uuid.UUID(project["id"])) == "active"
    delivered = await move(client, operator, eid, "delivered", note="En ligne")
    assert delivered["delivered_at"]
    assert await sql.fetchval("select status from projects where id = $1", uuid.UUID(project["id"])) == "done"

    seen = (await client.get(f"{API}/evolutions/{eid}", headers=tenant_b.member.headers)).json()
    assert [(h["from_status"], h["to_status"]) for h in seen["history"]] == [
        (None, "requested"),
        ("requested", "estimating"),
        ("estimating", "quoted"),
        ("quoted", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "delivered"),
    ]
    assert seen["history"][1]["note"] == "Je regarde ça" and seen["history"][0]["actor_role"] == "member"
    assert await sql.fetchval("select count(*) from notifications where user_id = $1", tenant_b.member.id) == 5
    actions = [
        r["action"]
        for r in await sql.fetch("select action from audit_log where entity_type = 'evolution_request' order by id")
    ]
    assert actions == [
        "evolution.requested",
        "evolution.estimating",
        "evolution.quoted",
        "evolution.accepted",
        "evolution.in_progress",
        "evolution.delivered",
    ]
    r = await client.post(
        f"{API}/evolutions/{eid}/status", headers=operator.headers, json={"status": "declined", "reason": "trop tard"}
    )
    assert r.status_code == 409 and r.json()["code"] == "evolution_transition_invalid"


async def test_decline_needs_a_reason_and_cancels_the_project(
    client: httpx.AsyncClient, operator: User, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    evolution = await ask(client, tenant_b)
    eid = evolution["id"]
    r = await client.post(f"{API}/evolutions/{eid}/status", headers=operator.headers, json={"status": "declined"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.post(
        f"{API}/evolutions/{eid}/status", headers=operator.headers, json={"status": "estimating", "reason": "x"}
    )
    assert r.status_code == 422
    r = await client.post(f"{API}/evolutions/{eid}/status", headers=operator.headers, json={"status": "delivered"})
    assert r.status_code == 409
    await move(client, operator, eid, "estimating")
    await move(client, operator, eid, "quoted")
    accepted = await move(client, operator, eid, "accepted")
    declined = await move(client, operator, eid, "declined", reason="Budget reporté")
    assert declined["decline_reason"] == "Budget reporté" and declined["declined_at"]
    assert declined["history"][-1]["note"] == "Budget reporté"
    assert (
        await sql.fetchval("select status from projects where id = $1", uuid.UUID(accepted["project_id"]))
        == "cancelled"
    )
    r = await client.post(f"{API}/evolutions/{eid}/status", headers=operator.headers, json={"status": "estimating"})
    assert r.status_code == 409


async def test_operator_edits_and_lists(
    client: httpx.AsyncClient, operator: User, tenant_b: Tenant, world: World
) -> None:
    other = await world.tenant("Delta", status="one")
    first = await ask(client, tenant_b, title="Premier")
    await ask(client, other, title="Autre")
    r = await client.patch(
        f"{API}/evolutions/{first['id']}",
        headers=operator.headers,
        json={"quote_reference": "D-1", "desired_date": None},
    )
    assert r.status_code == 200 and r.json()["quote_reference"] == "D-1" and r.json()["desired_date"] is None
    r = await client.patch(f"{API}/evolutions/{first['id']}", headers=operator.headers, json={"title": None})
    assert r.status_code == 422
    await move(client, operator, first["id"], "estimating")
    everything = (await client.get(f"{API}/evolutions", headers=operator.headers)).json()
    assert [e["title"] for e in everything["items"]] == ["Autre", "Premier"]
    page = (await client.get(f"{API}/evolutions", params={"limit": 1}, headers=operator.headers)).json()
    rest = (
        await client.get(
            f"{API}/evolutions", params={"limit": 1, "cursor": page["next_cursor"]}, headers=operator.headers
        )
    ).json()
    assert [e["title"] for e in page["items"] + rest["items"]] == ["Autre", "Premier"]
    estimating = (
        await client.get(f"{API}/evolutions", params={"status": "estimating"}, headers=operator.headers)
    ).json()
    assert [e["title"] for e in estimating["items"]] == ["Premier"]
    mine = (await client.get(f"{API}/evolutions", headers=tenant_b.member.headers)).json()
    assert [e["title"] for e in mine["items"]] == ["Premier"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": ""}, "title"),
        ({"title": "X", "desired_date": "not a date"}, "desired_date"),
        ({"title": "X", "status": "accepted"}, "status"),
    ],
)
async def test_invalid_request_is_422_and_writes_nothing(
    client: httpx.AsyncClient, tenant_b: Tenant, sql: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    r = await client.post(
        f"{API}/evolutions", headers=tenant_b.member.headers, json={"client_id": str(tenant_b.id), **body}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
    assert await sql.fetchval("select count(*) from evolution_requests") == 0


async def test_roles_and_tenants(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, world: World, sql: asyncpg.Connection
) -> None:
    r = await client.post(
        f"{API}/evolutions", headers=tenant_a.member.headers, json={"client_id": str(tenant_a.id), "title": "X"}
    )
    assert r.status_code == 409 and r.json()["code"] == "evolutions_not_available"  # a Lab client
    r = await client.post(
        f"{API}/evolutions", headers=tenant_a.member.headers, json={"client_id": str(tenant_b.id), "title": "X"}
    )
    assert r.status_code == 404  # not their client
    evolution = await ask(client, tenant_b)
    url = f"{API}/evolutions/{evolution['id']}"
    outsider = await world.tenant("Outsider", status="one")
    assert (await client.get(url, headers=outsider.member.headers)).status_code == 404
    for member in (tenant_b.member, outsider.member):
        r = await client.post(f"{url}/status", headers=member.headers, json={"status": "estimating"})
        assert r.status_code == 403
        r = await client.patch(url, headers=member.headers, json={"quote_reference": "X"})
        assert r.status_code == 403
    assert (await client.get(f"{API}/evolutions", headers=outsider.member.headers)).json()["items"] == []
    assert await sql.fetchval("select status from evolution_requests") == "requested"
    r = await client.post(
        f"{API}/evolutions", headers=operator.headers, json={"client_id": str(tenant_b.id), "title": "Pour le client"}
    )
    assert r.status_code == 201 and r.json()["history"][0]["actor_role"] == "operator"
    for method, path in (
        ("GET", ""),
        ("POST", ""),
        ("GET", f"/{uuid.uuid4()}"),
        ("PATCH", f"/{uuid.uuid4()}"),
        ("POST", f"/{uuid.uuid4()}/status"),
    ):
        assert (await client.request(method, f"{API}/evolutions{path}", json={})).status_code == 401
