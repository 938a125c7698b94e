"""Who may do what: anonymous 401, members read their own client's projects only and never edit them,
the operator's tasks and templates stay the operator's."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tests.conftest import Tenant, User
from tests.projects.kit import Projects

API = "/api/v1"


Ids = UUID | str


def routes(
    project_id: Ids, step_id: Ids, task_id: Ids, template_id: Ids, client_id: Ids
) -> list[tuple[str, str, dict[str, Any] | None, int]]:
    """Every projects route as (method, path, body, status for a member of the project's client)."""
    p, s = f"{API}/projects/{project_id}", step_id
    return [
        ("GET", f"{API}/projects", None, 200),
        ("POST", f"{API}/projects", {"client_id": str(client_id), "name": "X"}, 403),
        ("GET", p, None, 200),
        ("PATCH", p, {"name": "X"}, 403),
        ("POST", f"{p}/steps", {"title": "X"}, 403),
        ("PUT", f"{p}/steps/order", {"step_ids": [str(s)]}, 403),
        ("PATCH", f"{p}/steps/{s}", {"title": "X"}, 403),
        ("DELETE", f"{p}/steps/{s}", None, 403),
        ("GET", f"{p}/timeline", None, 200),
        ("POST", f"{p}/comments", {"body": "X"}, 201),
        ("GET", f"{p}/tasks", None, 403),
        ("POST", f"{p}/tasks", {"title": "X"}, 403),
        ("PATCH", f"{p}/tasks/{task_id}", {"done": True}, 403),
        ("DELETE", f"{p}/tasks/{task_id}", None, 403),
        ("GET", f"{API}/journey-templates", None, 403),
        ("POST", f"{API}/journey-templates", {"name": "X", "steps": [{"title": "X"}]}, 403),
        ("GET", f"{API}/journey-templates/{template_id}", None, 403),
        ("PATCH", f"{API}/journey-templates/{template_id}", {"name": "X"}, 403),
        ("POST", f"{API}/journey-templates/{template_id}/archive", None, 403),
        ("POST", f"{API}/clients/{client_id}/journeys", {"template_id": str(template_id)}, 403),
        ("GET", f"{API}/clients/{client_id}/lab-home", None, 200),
        ("GET", f"{API}/clients/{client_id}/timeline", None, 200),
    ]


async def _arranged(
    client: httpx.AsyncClient, operator: User, tenant: Tenant, pj: Projects
) -> tuple[str, str, str, str]:
    """The ids of a project, its first step, a task and a journey template."""
    project = await pj.project(tenant.id)
    template = await pj.template()
    r = await client.post(f"{API}/projects/{project['id']}/tasks", headers=operator.headers, json={"title": "T"})
    return project["id"], project["steps"][0]["id"], r.json()["id"], template["id"]


async def test_anonymous_gets_401_everywhere(client: httpx.AsyncClient, tenant_a: Tenant) -> None:
    for method, path, body, _ in routes(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), tenant_a.id):
        r = await client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)


async def test_member_of_another_client_sees_and_touches_nothing(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project, step, task, template = await _arranged(client, operator, tenant_a, pj)
    before = await sql.fetchval("select count(*) from audit_log")
    for method, path, body, _ in routes(project, step, task, template, tenant_a.id):
        r = await client.request(method, path, json=body, headers=tenant_b.member.headers)
        if method == "GET" and path.endswith("/projects"):
            assert r.status_code == 200 and r.json()["items"] == []
        else:
            assert r.status_code in (403, 404), (method, path, r.status_code)
    assert await sql.fetchval("select count(*) from audit_log") == before
    r = await client.get(f"{API}/projects", params={"client_id": str(tenant_a.id)}, headers=tenant_b.member.headers)
    assert r.json()["items"] == []
    assert await sql.fetchval("select count(*) from timeline_events where actor_id = $1", tenant_b.member.id) == 0


async def test_member_reads_and_comments_but_cannot_edit(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project, step, task, template = await _arranged(client, operator, tenant_a, pj)
    before = await sql.fetchval("select count(*) from audit_log")
    for method, path, body, expected in routes(project, step, task, template, tenant_a.id):
        r = await client.request(method, path, json=body, headers=tenant_a.member.headers)
        assert r.status_code == expected, (method, path, r.status_code, r.text)
    actions = [
        r["action"]
        for r in await sql.fetch(
            "select action from audit_log where action not like 'notifications.%' order by id offset $1", before
        )
    ]
    assert actions == ["project.commented"]


async def test_member_can_read_own_project_and_timeline(
    client: httpx.AsyncClient, tenant_a: Tenant, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id)
    r = await client.get(f"{API}/projects/{project['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 200 and len(r.json()["steps"]) == 3
    r = await client.get(f"{API}/projects/{project['id']}/timeline", headers=tenant_a.member.headers)
    assert r.status_code == 200 and r.json()["items"][0]["kind"] == "project_created"
    r = await client.get(f"{API}/projects/{project['id']}/tasks", headers=tenant_a.member.headers)
    assert r.status_code == 403
