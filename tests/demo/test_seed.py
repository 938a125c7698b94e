"""`foxeo serve --demo`'s seed against a real database: idempotent, tokens that the API accepts."""

from __future__ import annotations

import asyncpg
import httpx

from services.core.settings import Settings
from services.demo.service import seed_demo


async def test_seed_twice_keeps_one_row_per_demo_client(
    settings: Settings, database_url: str, sql: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    first = await seed_demo(database_url, settings)
    second = await seed_demo(database_url, settings)
    assert {key: value["client_id"] for key, value in first.items() if key != "operator"} == {
        key: value["client_id"] for key, value in second.items() if key != "operator"
    }
    assert await sql.fetchval("select count(*) from public.clients where 'demo' = any(tags)") == 2
    operator = await client.get("/api/v1/clients", headers={"Authorization": f"Bearer {second['operator']['token']}"})
    assert operator.status_code == 200 and len(operator.json()["items"]) == 2
    member = await client.get(
        f"/api/v1/clients/{second['one']['client_id']}", headers={"Authorization": f"Bearer {second['one']['token']}"}
    )
    assert member.status_code == 200 and member.json()["company_name"] == "Boulangerie Dupont"
