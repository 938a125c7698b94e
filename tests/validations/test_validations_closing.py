"""A project closed under a pending request: the request leaves the queue (closed, audited), and once the
project is reopened the step can be submitted again or moved by hand."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User
from tests.projects.kit import Projects

API = "/api/v1"


async def _submit(client: httpx.AsyncClient, member: User, step_id: str, **fields: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/validations", headers=member.headers, json={"step_id": str(step_id), **fields})
    assert r.status_code == 201, r.text
    request: dict[str, Any] = r.json()
    return request


@pytest.mark.parametrize("closing", ["done", "cancelled"])
async def test_closing_a_project_closes_its_open_requests(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects, closing: str
) -> None:
    project = await pj.project(tenant_a.id, steps=("A", "B"))
    pending = await _submit(client, tenant_a.member, project["steps"][0]["id"])
    waiting = await _submit(client, tenant_a.member, project["steps"][1]["id"])
    r = await client.post(
        f"{API}/validations/{waiting['id']}/request-changes",
        headers=operator.headers,
        json={"comment": "Encore un effort"},
    )
    assert r.status_code == 200

    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": closing})
    assert r.status_code == 200, r.text
    statuses = dict(await sql.fetch("select id::text, status from validation_requests"))
    assert statuses == {pending["id"]: "closed", waiting["id"]: "closed"}
    assert (await client.get(f"{API}/validations/queue", headers=operator.headers)).json()["items"] == []
    counts = (await client.get(f"{API}/validations/counts", headers=operator.headers)).json()
    assert counts["pending"] == 0 and counts["changes_requested"] == 0
    closed = await sql.fetch("select entity_id from audit_log where action = 'validation.closed'")
    assert {r["entity_id"] for r in closed} == {pending["id"], waiting["id"]}
    r = await client.post(f"{API}/validations/{pending['id']}/approve", headers=operator.headers)
    assert r.status_code == 409 and r.json()["code"] == "validation_already_decided"


async def test_a_reopened_projects_steps_are_not_stuck_under_validation(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id, steps=("A", "B"))
    a, b = (s["id"] for s in project["steps"])
    first = await _submit(client, tenant_a.member, a)
    await _submit(client, tenant_a.member, b)
    base = f"{API}/projects/{project['id']}"
    assert (await client.patch(base, headers=operator.headers, json={"status": "done"})).status_code == 200
    assert (await client.patch(base, headers=operator.headers, json={"status": "active"})).status_code == 200

    again = await _submit(client, tenant_a.member, a, message="Je reprends")
    assert again["id"] != first["id"] and again["status"] == "pending" and again["current_round"] == 1
    r = await client.patch(f"{base}/steps/{a}", headers=operator.headers, json={"status": "validated"})
    assert r.status_code == 409 and r.json()["code"] == "step_under_validation"  # its new request is open

    r = await client.patch(f"{base}/steps/{b}", headers=operator.headers, json={"status": "validated"})
    assert r.status_code == 200 and r.json()["status"] == "validated"  # its request was closed
    assert await sql.fetchval("select count(*) from validation_requests where status = 'pending'") == 1
