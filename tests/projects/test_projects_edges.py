"""Edges of the projects module: cursors and dates that must be 422 (never 500), one open journey per
Lab client whichever route opens it."""

from __future__ import annotations

import base64

import asyncpg
import httpx
import orjson
import pytest

from tests.conftest import Tenant, User
from tests.projects.kit import Projects

API = "/api/v1"


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


@pytest.mark.parametrize("value", ["abc", [1], 2**63, 1.5, True, None])
async def test_a_timeline_cursor_that_is_not_ours_is_422(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects, value: object
) -> None:
    project = await pj.project(tenant_a.id)
    for path in (f"{API}/projects/{project['id']}/timeline", f"{API}/clients/{tenant_a.id}/timeline"):
        r = await client.get(path, params={"cursor": _cursor(value)}, headers=operator.headers)
        assert r.status_code == 422 and r.json()["field"] == "cursor", (path, value, r.text)


async def test_a_journey_whose_dates_overflow_the_calendar_is_422(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    template = await pj.template(steps=("A", "B"))
    r = await client.post(
        f"{API}/clients/{tenant_a.id}/journeys",
        headers=operator.headers,
        json={"template_id": template["id"], "start_date": "9999-12-25"},
    )
    assert r.status_code == 422 and r.json()["field"] == "start_date", r.text
    assert await sql.fetchval("select count(*) from projects") == 0


async def test_a_journey_created_directly_still_respects_one_open_journey(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, pj: Projects
) -> None:
    await pj.journey(tenant_a.id)
    r = await client.post(
        f"{API}/projects",
        headers=operator.headers,
        json={"client_id": str(tenant_a.id), "name": "Second", "kind": "journey"},
    )
    assert r.status_code == 409 and r.json()["code"] == "journey_not_allowed", r.text
    assert await sql.fetchval("select count(*) from projects where kind = 'journey'") == 1
    r = await client.post(
        f"{API}/projects",
        headers=operator.headers,
        json={"client_id": str(tenant_a.id), "name": "Livraison", "kind": "delivery"},
    )
    assert r.status_code == 201  # other kinds are not limited


async def test_reopening_a_journey_while_another_is_open_is_409(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, pj: Projects
) -> None:
    first = await pj.journey(tenant_a.id)
    r = await client.patch(f"{API}/projects/{first['id']}", headers=operator.headers, json={"status": "done"})
    assert r.status_code == 200
    second = await pj.journey(tenant_a.id)
    r = await client.patch(f"{API}/projects/{first['id']}", headers=operator.headers, json={"status": "active"})
    assert r.status_code == 409 and r.json()["code"] == "journey_not_allowed", r.text
    r = await client.patch(f"{API}/projects/{second['id']}", headers=operator.headers, json={"status": "paused"})
    assert r.status_code == 200  # the open journey itself moves freely
    r = await client.patch(f"{API}/projects/{second['id']}", headers=operator.headers, json={"status": "active"})
    assert r.status_code == 200
    home = (await client.get(f"{API}/clients/{tenant_a.id}/lab-home", headers=tenant_a.member.headers)).json()
    assert home["journey"]["id"] == second["id"]


@pytest.mark.parametrize(
    "values",
    [
        ("2026-01-01T00:00:00+00:00", 123),
        ("2026-01-01T00:00:00", "not-a-uuid"),
        (["x"], "2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d"),
    ],
)
async def test_forged_keyset_cursors_are_422_on_every_list(
    client: httpx.AsyncClient, operator: User, values: tuple[object, object]
) -> None:
    for path in ("/projects", "/validations", "/validations/queue", "/evolutions"):
        r = await client.get(f"{API}{path}", params={"cursor": _cursor(*values)}, headers=operator.headers)
        assert r.status_code == 422 and r.json()["field"] == "cursor", (path, values, r.text)
