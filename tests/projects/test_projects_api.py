"""Projects and steps: operator CRUD, workflow, dense positions, derived progress, validation of input."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User
from tests.projects.kit import Projects

API = "/api/v1"


async def test_create_read_update_with_audit_and_timeline(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project = await pj.project(
        tenant_a.id,
        name="Site vitrine",
        kind="delivery",
        description="V1",
        start_date="2026-01-01",
        due_date="2026-03-01",
    )
    assert project["phase"] == "lab" and project["status"] == "active" and project["started_at"]
    assert [s["position"] for s in project["steps"]] == [1, 2, 3]
    assert project["steps"][0]["client_role"] == "Rôle Cadrage"
    assert project["progress"] == {"total": 3, "validated": 0, "percent": 0}

    r = await client.patch(
        f"{API}/projects/{project['id']}",
        headers=operator.headers,
        json={"name": "Site vitrine v2", "status": "paused"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Site vitrine v2" and r.json()["status"] == "paused"
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": "done"})
    assert r.status_code == 200 and r.json()["closed_at"]
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": "planned"})
    assert r.status_code == 409 and r.json()["code"] == "project_transition_invalid"
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": "active"})
    assert r.status_code == 200 and r.json()["closed_at"] is None  # done can be reopened

    r = await client.get(f"{API}/projects/{project['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 200 and r.json()["name"] == "Site vitrine v2"
    actions = [
        r["action"] for r in await sql.fetch("select action from audit_log where entity_type = 'project' order by id")
    ]
    assert actions == ["project.created"] + ["project.updated"] * 3
    kinds = [r["kind"] for r in await sql.fetch("select kind from timeline_events order by id")]
    assert kinds == ["project_created"] + ["project_status_changed"] * 3


async def test_cancelled_is_final_and_closed_projects_refuse_step_edits(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id)
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": "cancelled"})
    assert r.status_code == 200
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"status": "active"})
    assert r.status_code == 409
    r = await client.post(f"{API}/projects/{project['id']}/steps", headers=operator.headers, json={"title": "X"})
    assert r.status_code == 409 and r.json()["code"] == "project_closed"


async def test_positions_stay_dense_through_insert_remove_and_reorder(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id, steps=("A", "B", "C"))
    base = f"{API}/projects/{project['id']}"

    async def titles() -> list[str]:
        rows = await sql.fetch(
            "select title, position from project_steps where project_id = $1 order by position",
            uuid.UUID(project["id"]),
        )
        assert [r["position"] for r in rows] == list(range(1, len(rows) + 1))
        return [r["title"] for r in rows]

    r = await client.post(f"{base}/steps", headers=operator.headers, json={"title": "Start", "position": 1})
    assert r.status_code == 201 and r.json()["position"] == 1
    r = await client.post(f"{base}/steps", headers=operator.headers, json={"title": "Mid", "position": 3})
    mid = r.json()["id"]
    r = await client.post(f"{base}/steps", headers=operator.headers, json={"title": "End", "position": 99})
    assert r.json()["position"] == 6
    assert await titles() == ["Start", "A", "Mid", "B", "C", "End"]

    r = await client.delete(f"{base}/steps/{mid}", headers=operator.headers)
    assert r.status_code == 204
    assert await titles() == ["Start", "A", "B", "C", "End"]

    steps = (await client.get(base, headers=operator.headers)).json()["steps"]
    order = [s["id"] for s in reversed(steps)]
    r = await client.put(f"{base}/steps/order", headers=operator.headers, json={"step_ids": order})
    assert r.status_code == 200, r.text
    assert [s["title"] for s in r.json()] == ["End", "C", "B", "A", "Start"]
    assert await titles() == ["End", "C", "B", "A", "Start"]

    for bad in (order[:-1], [*order[:-1], order[0]], [*order, str(uuid.uuid4())]):
        r = await client.put(f"{base}/steps/order", headers=operator.headers, json={"step_ids": bad})
        assert r.status_code == 422 and r.json()["code"] == "step_order_invalid"
    assert await titles() == ["End", "C", "B", "A", "Start"]


async def test_progress_is_derived_from_steps_set_by_hand(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id, steps=("A", "B", "C"))
    base = f"{API}/projects/{project['id']}"
    a, b, _ = (s["id"] for s in project["steps"])
    r = await client.patch(f"{base}/steps/{a}", headers=operator.headers, json={"status": "in_progress"})
    assert r.status_code == 200 and r.json()["started_at"]
    r = await client.patch(f"{base}/steps/{a}", headers=operator.headers, json={"status": "validated"})
    assert r.json()["completed_at"]
    assert (
        await client.patch(f"{base}/steps/{b}", headers=operator.headers, json={"status": "validated"})
    ).status_code == 200
    detail = (await client.get(base, headers=tenant_a.member.headers)).json()
    assert detail["progress"] == {"total": 3, "validated": 2, "percent": 66}
    listed = (await client.get(f"{API}/projects", headers=operator.headers)).json()["items"][0]
    assert listed["progress"]["validated"] == 2
    r = await client.patch(f"{base}/steps/{a}", headers=operator.headers, json={"status": "todo"})
    assert r.json()["completed_at"] is None
    r = await client.patch(f"{base}/steps/{b}", headers=operator.headers, json={"status": "submitted"})
    assert r.status_code == 422  # only the Validation Hub submits


async def test_list_filters_and_keyset_pagination(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, pj: Projects
) -> None:
    for i in range(5):
        await pj.project(tenant_a.id, name=f"A{i}", steps=())
    await pj.project(tenant_b.id, name="B0", kind="evolution", steps=())
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {
            "client_id": str(tenant_a.id),
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await client.get(f"{API}/projects", params=params, headers=operator.headers)).json()
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["A4", "A3", "A2", "A1", "A0"]
    r = await client.get(f"{API}/projects", params={"kind": "evolution", "phase": "one"}, headers=operator.headers)
    assert [p["name"] for p in r.json()["items"]] == ["B0"]
    r = await client.get(f"{API}/projects", params={"cursor": "garbage!"}, headers=operator.headers)
    assert r.status_code == 422 and r.json()["field"] == "cursor"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "X", "kind": "other"}, "kind"),
        ({"name": "X", "status": "done"}, "status"),
        ({"name": "X", "start_date": "2026-02-01", "due_date": "2026-01-01"}, "body"),
        ({"name": "X", "steps": [{"title": ""}]}, "steps"),
        ({"name": "X", "unknown": 1}, "unknown"),
    ],
)
async def test_invalid_project_input_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    body: dict[str, Any],
    field: str,
) -> None:
    r = await client.post(f"{API}/projects", headers=operator.headers, json={"client_id": str(tenant_a.id), **body})
    assert r.status_code == 422, r.text
    assert any(e["field"].startswith(field) for e in r.json()["errors"])
    assert await sql.fetchval("select count(*) from projects") == 0
    assert await sql.fetchval("select count(*) from audit_log") == 0


async def test_null_for_a_required_field_is_422(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id)
    r = await client.patch(f"{API}/projects/{project['id']}", headers=operator.headers, json={"name": None})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name"]
    step = project["steps"][0]["id"]
    r = await client.patch(
        f"{API}/projects/{project['id']}/steps/{step}", headers=operator.headers, json={"title": None}
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["title"]
    r = await client.patch(
        f"{API}/projects/{project['id']}",
        headers=operator.headers,
        json={"due_date": "2000-01-01", "start_date": "2001-01-01"},
    )
    assert r.status_code == 422 and r.json()["field"] == "due_date"


async def test_archived_or_unknown_client_and_journey_kind_rules(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.post(
        f"{API}/projects", headers=operator.headers, json={"client_id": str(uuid.uuid4()), "name": "X"}
    )
    assert r.status_code == 404
    r = await client.post(
        f"{API}/projects",
        headers=operator.headers,
        json={"client_id": str(tenant_b.id), "name": "X", "kind": "journey"},
    )
    assert r.status_code == 409 and r.json()["code"] == "journey_not_allowed"
    await sql.execute("update clients set status = 'archived' where id = $1", tenant_a.id)
    r = await client.post(
        f"{API}/projects", headers=operator.headers, json={"client_id": str(tenant_a.id), "name": "X"}
    )
    assert r.status_code == 409


async def test_step_of_another_project_is_404(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    one = await pj.project(tenant_a.id)
    other = await pj.project(tenant_a.id)
    step = other["steps"][0]["id"]
    r = await client.patch(f"{API}/projects/{one['id']}/steps/{step}", headers=operator.headers, json={"title": "x"})
    assert r.status_code == 404 and r.json()["code"] == "project_step_not_found"
    r = await client.delete(f"{API}/projects/{one['id']}/steps/{step}", headers=operator.headers)
    assert r.status_code == 404
