"""Prospect statuses with their follow-up cadence, and conversion into Lab or One in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User
from tests.factories import create_client

URL = "/api/v1/prospects"


@pytest.fixture
async def prospect(sql: asyncpg.Connection) -> str:
    return str((await create_client(sql, company_name="Atelier Nova", status="prospect")).id)


async def _pending(sql: asyncpg.Connection) -> list[float]:
    """Days from now of each pending follow-up, rounded."""
    rows = await sql.fetch(
        "select due_at from reminders where kind = 'prospects.follow_up' and status = 'pending' order by due_at"
    )
    now = datetime.now(UTC)
    return [round((r["due_at"] - now) / timedelta(days=1)) for r in rows]


async def test_each_status_schedules_its_cadence_and_replaces_the_previous_one(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, prospect: str
) -> None:
    for temperature, expected in (("hot", [1, 3]), ("warm", [7, 21]), ("cold", [30]), ("no", [])):
        response = await client.post(
            f"{URL}/{prospect}/status", headers=operator.headers, json={"temperature": temperature, "note": "Visio ok"}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["temperature"], body["note"], len(body["follow_ups"])) == (temperature, "Visio ok", len(expected))
        assert all(r["suggested_message"].startswith("Bonjour") for r in body["follow_ups"])
        assert await _pending(sql) == expected, temperature
        assert (
            await sql.fetchval("select prospect_temperature from clients where id = $1::uuid", prospect) == temperature
        )
    assert await sql.fetchval("select count(*) from prospect_statuses") == 4
    assert await sql.fetchval("select count(*) from audit_log where action = 'prospect.status_set'") == 4


async def test_the_cadence_is_configurable(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, prospect: str
) -> None:
    cadence = {"hot": [2], "warm": [], "cold": [], "no": []}
    app.state.settings = app.state.settings.model_copy(update={"prospect_followup_days": cadence})
    response = await client.post(f"{URL}/{prospect}/status", headers=operator.headers, json={"temperature": "hot"})
    assert response.status_code == 201
    assert await _pending(sql) == [2]


async def test_conversion_to_one_switches_the_dashboard_and_keeps_the_client(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, prospect: str
) -> None:
    assert (
        await client.post(f"{URL}/{prospect}/status", headers=operator.headers, json={"temperature": "warm"})
    ).status_code == 201
    response = await client.post(
        f"{URL}/{prospect}/convert", headers=operator.headers, json={"to": "one", "note": "Go"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["dashboard_type"] == "one" and response.json()["cancelled_follow_ups"] == 2
    assert await sql.fetchval("select status from clients where id = $1::uuid", prospect) == "one"
    assert await _pending(sql) == []
    again = await client.post(f"{URL}/{prospect}/convert", headers=operator.headers, json={"to": "lab"})
    assert again.status_code == 409 and again.json()["code"] == "not_a_prospect"
    status = await client.post(f"{URL}/{prospect}/status", headers=operator.headers, json={"temperature": "hot"})
    assert status.status_code == 409


async def test_only_the_operator_sets_statuses_and_converts(
    client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant, prospect: str
) -> None:
    for path, body in (("status", {"temperature": "hot"}), ("convert", {"to": "lab"})):
        response = await client.post(f"{URL}/{prospect}/{path}", headers=tenant_a.member.headers, json=body)
        assert response.status_code == 403, response.text
    bad = await client.post(
        f"{URL}/{tenant_a.id}/status", headers=tenant_a.member.headers, json={"temperature": "tiède"}
    )
    assert bad.status_code in (403, 422)
    assert await sql.fetchval("select count(*) from prospect_statuses") == 0


async def test_a_members_company_view_is_their_own(
    client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    for tenant in (tenant_a, tenant_b):
        await sql.execute(
            "insert into client_companies (client_id, siret, siren, lookup_status)"
            " values ($1, $2, $3, 'not_found_kept_as_typed')",
            tenant.id, "73282932000074", "732829320",
        )  # fmt: skip
    own = await client.get(f"{URL}/{tenant_a.id}/company", headers=tenant_a.member.headers)
    assert own.status_code == 200 and own.json()["lookup_status"] == "not_found_kept_as_typed"
    other = await client.get(f"{URL}/{tenant_b.id}/company", headers=tenant_a.member.headers)
    assert other.status_code == 404
