"""Journey templates, starting a journey, the Lab home, tasks, comments and the timeline."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from tests.conftest import Tenant, User, World
from tests.projects.kit import Projects

API = "/api/v1"


async def test_template_edits_never_rewrite_running_journeys(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    template = await pj.template(steps=("Vision", "Marché"))
    assert template["version"] == 1
    journey = await pj.journey(tenant_a.id, template["id"], start_date="2026-01-05")
    assert journey["kind"] == "journey" and journey["status"] == "active" and journey["template_version"] == 1
    assert [s["status"] for s in journey["steps"]] == ["in_progress", "todo"]
    assert [s["due_date"] for s in journey["steps"]] == ["2026-01-12", "2026-01-19"]
    assert journey["due_date"] == "2026-01-19"

    r = await client.patch(
        f"{API}/journey-templates/{template['id']}",
        headers=operator.headers,
        json={"steps": [{"title": "Tout nouveau"}]},
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await client.patch(
        f"{API}/journey-templates/{template['id']}", headers=operator.headers, json={"name": "Renommé"}
    )
    assert r.json()["version"] == 2  # only new steps make a new version
    running = (await client.get(f"{API}/projects/{journey['id']}", headers=operator.headers)).json()
    assert [s["title"] for s in running["steps"]] == ["Vision", "Marché"]


async def test_one_open_journey_per_lab_client(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, world: World, pj: Projects
) -> None:
    template = await pj.template()
    await pj.journey(tenant_a.id, template["id"])
    r = await client.post(
        f"{API}/clients/{tenant_a.id}/journeys", headers=operator.headers, json={"template_id": template["id"]}
    )
    assert r.status_code == 409 and r.json()["code"] == "journey_not_allowed"
    r = await client.post(
        f"{API}/clients/{tenant_b.id}/journeys", headers=operator.headers, json={"template_id": template["id"]}
    )
    assert r.status_code == 409  # a One client: reopen the Lab first
    prospect = await world.tenant("Prospect", status="prospect")
    r = await client.post(
        f"{API}/clients/{prospect.id}/journeys", headers=operator.headers, json={"template_id": template["id"]}
    )
    assert r.status_code == 409
    r = await client.post(
        f"{API}/clients/{tenant_a.id}/journeys", headers=operator.headers, json={"template_id": str(uuid.uuid4())}
    )
    assert r.status_code == 404


async def test_archived_template_cannot_start_a_journey(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    template = await pj.template()
    r = await client.post(f"{API}/journey-templates/{template['id']}/archive", headers=operator.headers)
    assert r.status_code == 200 and r.json()["archived_at"]
    again = await client.post(f"{API}/journey-templates/{template['id']}/archive", headers=operator.headers)
    assert again.status_code == 409
    r = await client.post(
        f"{API}/clients/{tenant_a.id}/journeys", headers=operator.headers, json={"template_id": template["id"]}
    )
    assert r.status_code == 409 and r.json()["code"] == "journey_template_archived"
    listed = (await client.get(f"{API}/journey-templates", headers=operator.headers)).json()
    assert listed == []
    listed = (
        await client.get(f"{API}/journey-templates", params={"include_archived": True}, headers=operator.headers)
    ).json()
    assert [t["id"] for t in listed] == [template["id"]]


async def test_invalid_template_is_422(client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection) -> None:
    for body, field in (
        ({"name": "X", "steps": []}, "steps"),
        ({"name": "X", "steps": [{"title": "A", "duration_days": 0}]}, "steps"),
        ({"name": "", "steps": [{"title": "A"}]}, "name"),
    ):
        r = await client.post(f"{API}/journey-templates", headers=operator.headers, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith(field)
    assert await sql.fetchval("select count(*) from journey_templates") == 0


async def test_lab_home_shows_progress_current_step_role_and_next(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, pj: Projects
) -> None:
    r = await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_a.member.headers)
    assert r.status_code == 200
    assert r.json()["journey"] is None and r.json()["current_step"] is None and r.json()["progress"]["total"] == 0

    journey = await pj.journey(tenant_a.id, (await pj.template(steps=("Vision", "Marché", "Offre")))["id"])
    first = journey["steps"][0]["id"]
    assert (
        await client.patch(
            f"{API}/projects/{journey['id']}/steps/{first}", headers=operator.headers, json={"status": "validated"}
        )
    ).status_code == 200
    assert (
        await client.patch(
            f"{API}/projects/{journey['id']}/steps/{journey['steps'][1]['id']}",
            headers=operator.headers,
            json={"status": "in_progress"},
        )
    ).status_code == 200
    home = (await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_a.member.headers)).json()
    assert home["journey"]["id"] == journey["id"]
    assert home["progress"] == {"total": 3, "validated": 1, "percent": 33}
    assert home["current_step"]["title"] == "Marché"
    assert home["current_step"]["client_role"] == "Tu prépares Marché"
    assert [s["title"] for s in home["next_steps"]] == ["Offre"]

    r = await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_b.member.headers)
    assert r.status_code == 404
    r = await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=operator.headers)
    assert r.status_code == 200 and r.json()["current_step"]["title"] == "Marché"


async def test_tasks_are_the_operators(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    project = await pj.project(tenant_a.id)
    base = f"{API}/projects/{project['id']}/tasks"
    r = await client.post(
        base,
        headers=operator.headers,
        json={"title": "Envoyer le devis", "source": "meeting", "source_ref": "visio-12"},
    )
    assert r.status_code == 201 and r.json()["source"] == "meeting" and r.json()["done"] is False
    task = r.json()["id"]
    assert (
        await client.post(base, headers=operator.headers, json={"title": "Relancer", "due_date": "2026-01-01"})
    ).status_code == 201
    r = await client.patch(f"{base}/{task}", headers=operator.headers, json={"done": True})
    assert r.status_code == 200 and r.json()["done"] and r.json()["done_at"]
    listed = (await client.get(base, headers=operator.headers)).json()
    assert [t["title"] for t in listed] == ["Relancer", "Envoyer le devis"]  # open ones first
    assert [t["title"] for t in (await client.get(base, params={"done": True}, headers=operator.headers)).json()] == [
        "Envoyer le devis"
    ]
    r = await client.patch(f"{base}/{task}", headers=operator.headers, json={"source": "x"})
    assert r.status_code == 422
    r = await client.delete(f"{base}/{task}", headers=operator.headers)
    assert r.status_code == 204
    r = await client.delete(f"{base}/{task}", headers=operator.headers)
    assert r.status_code == 404
    actions = [
        r["action"]
        for r in await sql.fetch("select action from audit_log where entity_type = 'project_task' order by id")
    ]
    assert actions == ["project_task.created", "project_task.created", "project_task.updated", "project_task.deleted"]


async def test_comments_notify_the_other_side_and_fill_the_timeline(
    client: httpx.AsyncClient, reachable_operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    operator = reachable_operator
    project = await pj.project(tenant_a.id)
    step = project["steps"][1]["id"]
    r = await client.post(
        f"{API}/projects/{project['id']}/comments",
        headers=tenant_a.member.headers,
        json={"body": "Une question sur l'étape", "step_id": step},
    )
    assert r.status_code == 201 and r.json()["actor_role"] == "member" and r.json()["step_id"] == step
    r = await client.post(
        f"{API}/projects/{project['id']}/comments", headers=operator.headers, json={"body": "Réponse"}
    )
    assert r.status_code == 201 and r.json()["actor_role"] == "operator"
    notified = await sql.fetch("select user_id from notifications order by created_at")
    assert [n["user_id"] for n in notified] == [operator.id, tenant_a.member.id]

    other = await pj.project(tenant_a.id)
    r = await client.post(
        f"{API}/projects/{project['id']}/comments",
        headers=operator.headers,
        json={"body": "x", "step_id": other["steps"][0]["id"]},
    )
    assert r.status_code == 404
    r = await client.post(f"{API}/projects/{project['id']}/comments", headers=operator.headers, json={"body": " "})
    assert r.status_code == 422

    page = (
        await client.get(
            f"{API}/projects/{project['id']}/timeline", params={"limit": 2}, headers=tenant_a.member.headers
        )
    ).json()
    assert [e["kind"] for e in page["items"]] == ["comment", "comment"] and page["next_cursor"]
    rest = (
        await client.get(
            f"{API}/projects/{project['id']}/timeline",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=tenant_a.member.headers,
        )
    ).json()
    assert [e["kind"] for e in rest["items"]] == ["project_created"] and rest["next_cursor"] is None
    everything = (await client.get(f"{API}/clients/{tenant_a.id}/timeline", headers=operator.headers)).json()
    assert len(everything["items"]) == 4  # both projects' creation and the two comments


async def test_racing_journey_starts_open_only_one(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    import asyncio

    template = await pj.template()
    responses = await asyncio.gather(
        *(
            client.post(
                f"{API}/clients/{tenant_a.id}/journeys", headers=operator.headers, json={"template_id": template["id"]}
            )
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert await sql.fetchval("select count(*) from projects where kind = 'journey'") == 1
