"""The Validation Hub: submission, the operator's queue, decisions per round, notifications."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User, World
from tests.projects.kit import Projects

API = "/api/v1"


async def submit(
    client: httpx.AsyncClient, member: User, step_id: str | UUID, message: str = "Voici mon travail", **fields: Any
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/validations", headers=member.headers, json={"step_id": str(step_id), "message": message, **fields}
    )
    assert r.status_code == 201, r.text
    request: dict[str, Any] = r.json()
    return request


async def test_submit_request_changes_resubmit_approve(
    client: httpx.AsyncClient, reachable_operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    operator = reachable_operator
    journey = await pj.journey(tenant_a.id, (await pj.template(steps=("Vision", "Marché")))["id"])
    vision = journey["steps"][0]

    request = await submit(client, tenant_a.member, vision["id"])
    assert request["status"] == "pending" and request["current_round"] == 1
    assert request["step_title"] == "Vision" and request["company_name"] == "Alpha Studio"
    note = await sql.fetchrow("select user_id, source, priority, entity_id from notifications")
    assert (note["user_id"], note["source"], note["priority"]) == (operator.id, "validation_hub", "high")
    assert note["entity_id"] == request["id"]
    step = await sql.fetchval("select status from project_steps where id = $1", uuid.UUID(vision["id"]))
    assert step == "submitted"

    r = await client.post(f"{API}/validations/{request['id']}/request-changes", headers=operator.headers, json={})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    r = await client.post(
        f"{API}/validations/{request['id']}/request-changes",
        headers=operator.headers,
        json={"comment": "Précise ta cible", "round": 1},
    )
    assert r.status_code == 200 and r.json()["status"] == "changes_requested"
    assert r.json()["rounds"][0]["decision"] == "changes_requested"
    home = (await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_a.member.headers)).json()
    assert home["current_step"]["status"] == "changes_requested"
    assert await sql.fetchval("select count(*) from notifications where user_id = $1", tenant_a.member.id) == 1

    again = await submit(client, tenant_a.member, vision["id"], message="Version 2")
    assert again["id"] == request["id"] and again["current_round"] == 2 and again["status"] == "pending"
    assert [r["message"] for r in again["rounds"]] == ["Voici mon travail", "Version 2"]

    r = await client.post(f"{API}/validations/{request['id']}/approve", headers=operator.headers, json={"round": 1})
    assert r.status_code == 409 and r.json()["code"] == "validation_stale_round"
    r = await client.post(f"{API}/validations/{request['id']}/approve", headers=operator.headers)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await client.post(f"{API}/validations/{request['id']}/approve", headers=operator.headers)
    assert r.status_code == 409 and r.json()["code"] == "validation_already_decided"
    r = await client.post(
        f"{API}/validations/{request['id']}/reject", headers=operator.headers, json={"comment": "non"}
    )
    assert r.status_code == 409

    steps = await sql.fetch(
        "select title, status, completed_at from project_steps where project_id = $1 order by position",
        uuid.UUID(journey["id"]),
    )
    assert [(s["title"], s["status"]) for s in steps] == [("Vision", "validated"), ("Marché", "in_progress")]
    assert steps[0]["completed_at"] is not None
    kinds = [r["kind"] for r in await sql.fetch("select kind from timeline_events order by id")]
    assert kinds == [
        "project_created",
        "step_submitted",
        "step_changes_requested",
        "step_submitted",
        "step_validated",
        "step_started",
    ]
    actions = [
        r["action"]
        for r in await sql.fetch("select action from audit_log where entity_type = 'validation_request' order by id")
    ]
    assert actions == [
        "validation.submitted",
        "validation.changes_requested",
        "validation.submitted",
        "validation.approved",
    ]
    member_notes = await sql.fetch(
        "select title from notifications where user_id = $1 order by created_at", tenant_a.member.id
    )
    assert len(member_notes) == 2 and "validée" in member_notes[1]["title"]
    mine = (await client.get(f"{API}/validations", headers=tenant_a.member.headers)).json()["items"]
    assert [(v["id"], v["status"]) for v in mine] == [(request["id"], "approved")]


async def test_reject_sends_the_step_back_and_a_new_submission_is_a_new_request(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    step = journey["steps"][0]
    first = await submit(client, tenant_a.member, step["id"])
    r = await client.post(f"{API}/validations/{first['id']}/reject", headers=operator.headers, json={"comment": "  "})
    assert r.status_code == 422
    r = await client.post(
        f"{API}/validations/{first['id']}/reject", headers=operator.headers, json={"comment": "Hors sujet"}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["rounds"][0]["decision_comment"] == "Hors sujet"
    assert await sql.fetchval("select status from project_steps where id = $1", uuid.UUID(step["id"])) == "in_progress"
    second = await submit(client, tenant_a.member, step["id"])
    assert second["id"] != first["id"] and second["current_round"] == 1


async def test_what_cannot_be_submitted(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    step = journey["steps"][0]["id"]
    r = await client.post(f"{API}/validations", headers=operator.headers, json={"step_id": step})
    assert r.status_code == 403  # the client submits, not MiKL
    r = await client.post(f"{API}/validations", headers=tenant_b.member.headers, json={"step_id": step})
    assert r.status_code == 404
    r = await client.post(f"{API}/validations", headers=tenant_a.member.headers, json={"step_id": str(uuid.uuid4())})
    assert r.status_code == 404
    await submit(client, tenant_a.member, step)
    r = await client.post(f"{API}/validations", headers=tenant_a.member.headers, json={"step_id": step})
    assert r.status_code == 409 and r.json()["code"] == "step_not_submittable"
    assert (
        await client.patch(f"{API}/projects/{journey['id']}", headers=operator.headers, json={"status": "paused"})
    ).status_code == 200
    r = await client.post(
        f"{API}/validations", headers=tenant_a.member.headers, json={"step_id": journey["steps"][1]["id"]}
    )
    assert r.status_code == 409
    r = await client.post(
        f"{API}/validations", headers=tenant_a.member.headers, json={"step_id": step, "message": "x" * 20001}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "message"


async def test_a_step_under_validation_is_not_changed_by_hand_nor_removed(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    step = journey["steps"][0]["id"]
    request = await submit(client, tenant_a.member, step)
    path = f"{API}/projects/{journey['id']}/steps/{step}"
    r = await client.patch(path, headers=operator.headers, json={"status": "validated"})
    assert r.status_code == 409 and r.json()["code"] == "step_under_validation"
    r = await client.patch(path, headers=operator.headers, json={"title": "Renamed"})
    assert r.status_code == 200
    assert (
        await client.post(f"{API}/validations/{request['id']}/approve", headers=operator.headers)
    ).status_code == 200
    r = await client.delete(path, headers=operator.headers)
    assert r.status_code == 409  # its validation history stays
    r = await client.get(f"{API}/validations/{request['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 200


async def _documents(
    sql: asyncpg.Connection, client_id: UUID, count: int = 1, visibility: str = "shared"
) -> list[UUID]:
    ids: list[UUID] = [
        await sql.fetchval(
            "insert into documents (client_id, title, phase, visibility) values ($1, 'Doc', 'lab', $2) returning id",
            client_id,
            visibility,
        )
        for _ in range(count)
    ]
    return ids


async def test_attached_documents_must_be_the_clients_own(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    step = journey["steps"][0]["id"]
    own = await _documents(sql, tenant_a.id, 2)
    foreign = await _documents(sql, tenant_b.id)
    internal = await _documents(sql, tenant_a.id, visibility="internal")
    for bad in (foreign, internal, [uuid.uuid4()]):
        r = await client.post(
            f"{API}/validations",
            headers=tenant_a.member.headers,
            json={"step_id": step, "document_ids": [str(d) for d in [*own, *bad]]},
        )
        assert r.status_code == 422 and r.json()["field"] == "document_ids", r.text
    assert await sql.fetchval("select count(*) from validation_requests") == 0
    request = await submit(client, tenant_a.member, step, document_ids=[str(d) for d in own])
    assert request["rounds"][0]["document_ids"] == [str(d) for d in own]


async def test_queue_oldest_first_with_filters_counts_and_pages(
    client: httpx.AsyncClient, operator: User, world: World, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    other = await world.tenant("Gamma")
    a = await pj.journey(tenant_a.id, (await pj.template(steps=("A1", "A2")))["id"])
    b = await pj.journey(other.id, (await pj.template(steps=("B1", "B2")))["id"])
    ra = await submit(client, tenant_a.member, a["steps"][0]["id"])
    rb = await submit(client, other.member, b["steps"][0]["id"])
    # Another step submitted directly: change the second step by hand to allow it.
    assert (
        await client.patch(
            f"{API}/projects/{a['id']}/steps/{a['steps'][1]['id']}",
            headers=operator.headers,
            json={"status": "in_progress"},
        )
    ).status_code == 200
    rc = await submit(client, tenant_a.member, a["steps"][1]["id"])
    await sql.execute(
        "update validation_requests set last_submitted_at = now() - interval '80 hours' where id = $1",
        uuid.UUID(rb["id"]),
    )
    await sql.execute(
        "update validation_requests set last_submitted_at = now() - interval '30 hours' where id = $1",
        uuid.UUID(ra["id"]),
    )

    queue = (await client.get(f"{API}/validations/queue", headers=operator.headers)).json()
    assert [v["id"] for v in queue["items"]] == [rb["id"], ra["id"], rc["id"]]
    page = (await client.get(f"{API}/validations/queue", params={"limit": 2}, headers=operator.headers)).json()
    rest = (
        await client.get(
            f"{API}/validations/queue", params={"limit": 2, "cursor": page["next_cursor"]}, headers=operator.headers
        )
    ).json()
    assert [v["id"] for v in page["items"] + rest["items"]] == [rb["id"], ra["id"], rc["id"]]
    by_client = (
        await client.get(f"{API}/validations/queue", params={"client_id": str(tenant_a.id)}, headers=operator.headers)
    ).json()
    assert [v["id"] for v in by_client["items"]] == [ra["id"], rc["id"]]
    by_project = (
        await client.get(f"{API}/validations/queue", params={"project_id": b["id"]}, headers=operator.headers)
    ).json()
    assert [v["id"] for v in by_project["items"]] == [rb["id"]]
    old = (await client.get(f"{API}/validations/queue", params={"min_age_hours": 24}, headers=operator.headers)).json()
    assert [v["id"] for v in old["items"]] == [rb["id"], ra["id"]]
    recent = (
        await client.get(f"{API}/validations/queue", params={"max_age_hours": 48}, headers=operator.headers)
    ).json()
    assert [v["id"] for v in recent["items"]] == [ra["id"], rc["id"]]

    assert (
        await client.post(
            f"{API}/validations/{rc['id']}/request-changes", headers=operator.headers, json={"comment": "encore"}
        )
    ).status_code == 200
    counts = (await client.get(f"{API}/validations/counts", headers=operator.headers)).json()
    assert counts["pending"] == 2 and counts["changes_requested"] == 1
    assert counts["pending_over_24h"] == 2 and counts["pending_over_72h"] == 1
    assert {c["company_name"]: c["pending"] for c in counts["by_client"]} == {"Alpha Studio": 1, "Gamma": 1}
    only_a = (
        await client.get(f"{API}/validations/counts", params={"client_id": str(tenant_a.id)}, headers=operator.headers)
    ).json()
    assert only_a["pending"] == 1 and len(only_a["by_client"]) == 1
    r = await client.get(f"{API}/validations/queue", params={"min_age_hours": -1}, headers=operator.headers)
    assert r.status_code == 422


@pytest.mark.parametrize("second", ["approve", "request-changes", "reject"])
async def test_racing_decisions_one_wins_the_other_gets_409(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects, second: str
) -> None:
    journey = await pj.journey(tenant_a.id)
    request = await submit(client, tenant_a.member, journey["steps"][0]["id"])
    url = f"{API}/validations/{request['id']}"
    responses = await asyncio.gather(
        client.post(f"{url}/approve", headers=operator.headers, json={}),
        client.post(
            f"{url}/{second}", headers=operator.headers, json={"comment": "Non"} if second != "approve" else {}
        ),
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    decided = await sql.fetch("select decision from validation_rounds where request_id = $1", uuid.UUID(request["id"]))
    assert len(decided) == 1 and decided[0]["decision"] is not None
    assert (
        await sql.fetchval(
            "select count(*) from audit_log where action like 'validation.%' and action <> 'validation.submitted'"
        )
        == 1
    )


async def test_roles_and_tenants(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    journey = await pj.journey(tenant_a.id)
    request = await submit(client, tenant_a.member, journey["steps"][0]["id"])
    url = f"{API}/validations/{request['id']}"
    for member in (tenant_a.member, tenant_b.member):
        for action, body in (("approve", {}), ("request-changes", {"comment": "x"}), ("reject", {"comment": "x"})):
            r = await client.post(f"{url}/{action}", headers=member.headers, json=body)
            assert r.status_code == 403, (action, r.text)
        for path in ("/queue", "/counts"):
            assert (await client.get(f"{API}/validations{path}", headers=member.headers)).status_code == 403
    assert (await client.get(url, headers=tenant_b.member.headers)).status_code == 404
    listed = (
        await client.get(f"{API}/validations", params={"client_id": str(tenant_a.id)}, headers=tenant_b.member.headers)
    ).json()
    assert listed["items"] == []
    assert await sql.fetchval("select status from validation_requests") == "pending"
    for method, path in (
        ("POST", ""),
        ("GET", ""),
        ("GET", "/queue"),
        ("GET", "/counts"),
        ("GET", f"/{uuid.uuid4()}"),
        ("POST", f"/{uuid.uuid4()}/approve"),
        ("POST", f"/{uuid.uuid4()}/reject"),
        ("POST", f"/{uuid.uuid4()}/request-changes"),
    ):
        assert (await client.request(method, f"{API}/validations{path}", json={})).status_code == 401
