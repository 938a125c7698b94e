"""Graduation Lab → One and Lab reactivation: one transaction each, audited, idempotence refused."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg
import httpx

from tests.conftest import Tenant, User, World
from tests.projects.kit import Projects

API = "/api/v1"
ONE_DEFAULTS = {"home", "documents", "chat", "agenda", "visio", "lab_history", "evolutions"}


async def _config(sql: asyncpg.Connection, client_id: UUID) -> asyncpg.Record:
    return await sql.fetchrow(
        "select dashboard_type, active_modules, elio_lab_enabled from client_configs where client_id = $1", client_id
    )


async def test_graduation_moves_everything_at_once_and_keeps_lab_history(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    delivery = await pj.project(tenant_a.id, kind="delivery")
    r = await client.post(
        f"{API}/validations",
        headers=tenant_a.member.headers,
        json={"step_id": journey["steps"][0]["id"], "message": "fini"},
    )
    request = r.json()
    await sql.execute(
        "update client_configs set active_modules = active_modules || '{wellbeing,billing}' where client_id = $1",
        tenant_a.id,
    )

    r = await client.post(f"{API}/clients/{tenant_a.id}/graduate", headers=operator.headers, json={"note": "Bravo !"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "one" and result["dashboard_type"] == "one" and result["elio_lab_enabled"] is False
    assert set(result["active_modules"]) == ONE_DEFAULTS
    assert result["event"]["kind"] == "graduated" and result["event"]["lab_cycle"] == 1
    assert result["event"]["closed_project_ids"] == [journey["id"]]
    assert result["closed_validation_ids"] == [request["id"]]

    assert await sql.fetchval("select status from clients where id = $1", tenant_a.id) == "one"
    config = await _config(sql, tenant_a.id)
    assert config["dashboard_type"] == "one" and not config["elio_lab_enabled"]
    assert set(config["active_modules"]) == ONE_DEFAULTS
    statuses = dict(await sql.fetch("select id::text, status from projects"))
    assert statuses == {journey["id"]: "done", delivery["id"]: "active"}
    assert await sql.fetchval("select status from validation_requests") == "closed"
    actions = [r["action"] for r in await sql.fetch("select action from audit_log order by id")]
    assert {
        "client.graduated",
        "client.updated",
        "config.dashboard_switched",
        "project.closed",
        "validation.closed",
    } <= set(actions)
    timeline = (await client.get(f"{API}/clients/{tenant_a.id}/timeline", headers=tenant_a.member.headers)).json()
    assert timeline["items"][0]["kind"] == "graduated" and timeline["items"][0]["body"] == "Bravo !"
    assert await sql.fetchval("select count(*) from notifications where user_id = $1", tenant_a.member.id) == 1

    # Lab history: the journey, its steps and the submission stay readable by the client.
    history = (
        await client.get(f"{API}/projects", params={"phase": "lab", "kind": "journey"}, headers=tenant_a.member.headers)
    ).json()
    assert [p["id"] for p in history["items"]] == [journey["id"]]
    r = await client.get(f"{API}/validations/{request['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await client.get(f"{API}/validations/queue", headers=operator.headers)).json()["items"] == []
    home = (await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_a.member.headers)).json()
    assert home["journey"] is None

    again = await client.post(f"{API}/clients/{tenant_a.id}/graduate", headers=operator.headers)
    assert again.status_code == 409 and again.json()["code"] == "lifecycle_already_in_state"


async def test_reactivation_opens_a_new_cycle_and_regraduation_restores_one_tools(
    client: httpx.AsyncClient, operator: User, tenant_b: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    await sql.execute(
        "update client_configs set active_modules = active_modules || '{client_crm}',"
        " elio_lab_enabled = false where client_id = $1",
        tenant_b.id,
    )
    template = await pj.template(steps=("Nouveau cap",))
    r = await client.post(
        f"{API}/clients/{tenant_b.id}/reactivate-lab",
        headers=operator.headers,
        json={"note": "Nouveau projet", "template_id": template["id"]},
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["status"] == "lab" and result["dashboard_type"] == "lab" and result["elio_lab_enabled"] is True
    assert result["lab_cycle"] == 2 and result["event"]["kind"] == "lab_reactivated"
    assert "client_crm" not in result["active_modules"] and {"journey", "validations"} <= set(result["active_modules"])
    journey = (await client.get(f"{API}/projects/{result['journey_id']}", headers=tenant_b.member.headers)).json()
    assert journey["kind"] == "journey" and journey["phase"] == "lab" and journey["status"] == "active"

    again = await client.post(f"{API}/clients/{tenant_b.id}/reactivate-lab", headers=operator.headers)
    assert again.status_code == 409 and again.json()["code"] == "lifecycle_already_in_state"

    r = await client.post(f"{API}/clients/{tenant_b.id}/graduate", headers=operator.headers)
    assert r.status_code == 200
    assert r.json()["event"]["lab_cycle"] == 2 and "client_crm" in r.json()["active_modules"]
    state = (await client.get(f"{API}/clients/{tenant_b.id}/lifecycle", headers=tenant_b.member.headers)).json()
    assert [e["kind"] for e in state["events"]] == ["graduated", "lab_reactivated"]
    assert state["elio_lab_enabled"] is False and state["lab_cycle"] == 2


async def test_a_failed_reactivation_writes_nothing(
    client: httpx.AsyncClient, operator: User, tenant_b: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    template = await pj.template()
    assert (
        await client.post(f"{API}/journey-templates/{template['id']}/archive", headers=operator.headers)
    ).status_code == 200
    before = await sql.fetchval("select count(*) from audit_log")
    r = await client.post(
        f"{API}/clients/{tenant_b.id}/reactivate-lab", headers=operator.headers, json={"template_id": template["id"]}
    )
    assert r.status_code == 409
    assert await sql.fetchval("select status from clients where id = $1", tenant_b.id) == "one"
    assert (await _config(sql, tenant_b.id))["dashboard_type"] == "one"
    assert await sql.fetchval("select count(*) from client_lifecycle_events") == 0
    assert await sql.fetchval("select count(*) from audit_log") == before


async def test_only_lab_clients_graduate_and_only_one_clients_reactivate(
    client: httpx.AsyncClient, operator: User, world: World
) -> None:
    prospect = await world.tenant("Prospect", status="prospect")
    for action in ("graduate", "reactivate-lab"):
        r = await client.post(f"{API}/clients/{prospect.id}/{action}", headers=operator.headers)
        assert r.status_code == 409 and r.json()["code"] == "lifecycle_not_allowed"
    r = await client.post(f"{API}/clients/{uuid.uuid4()}/graduate", headers=operator.headers)
    assert r.status_code == 404
    r = await client.post(f"{API}/clients/{prospect.id}/graduate", headers=operator.headers, json={"note": ""})
    assert r.status_code == 422


async def test_roles_and_tenants(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    for tenant in (tenant_a, tenant_b):
        for member in (tenant_a.member, tenant_b.member):
            for action in ("graduate", "reactivate-lab"):
                r = await client.post(f"{API}/clients/{tenant.id}/{action}", headers=member.headers)
                assert r.status_code == 403, (action, r.text)
            if member is not tenant.member:
                r = await client.get(f"{API}/clients/{tenant.id}/lifecycle", headers=member.headers)
                assert r.status_code == 404
    r = await client.get(f"{API}/clients/{tenant_a.id}/lifecycle", headers=tenant_a.member.headers)
    assert r.status_code == 200 and r.json()["status"] == "lab" and r.json()["elio_lab_enabled"] is True
    assert await sql.fetchval("select status from clients where id = $1", tenant_a.id) == "lab"
    for path in ("graduate", "reactivate-lab"):
        assert (await client.post(f"{API}/clients/{tenant_a.id}/{path}")).status_code == 401
    assert (await client.get(f"{API}/clients/{tenant_a.id}/lifecycle")).status_code == 401


async def test_racing_graduations_one_wins_the_other_gets_409(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    import asyncio

    responses = await asyncio.gather(
        *(client.post(f"{API}/clients/{tenant_a.id}/graduate", headers=operator.headers) for _ in range(2))
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await sql.fetchval("select count(*) from client_lifecycle_events") == 1
