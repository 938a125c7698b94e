"""Module catalogue, per-client configuration rules and navigation."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User


async def test_catalogue_lists_socle_and_metier_modules(client: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await client.get("/api/v1/modules", params={"dashboard": "lab"}, headers=tenant_a.member.headers)
    assert r.status_code == 200
    kinds = {m["key"]: m["kind"] for m in r.json()}
    assert kinds["notifications"] == "socle" and kinds["journey"] == "metier"
    assert "client_crm" not in kinds  # a One module


async def test_register_and_update_a_specifique_module(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection
) -> None:
    body = {
        "key": "booking_widget",
        "name": "Widget de réservation",
        "dashboards": ["one"],
        "depends_on": ["agenda"],
        "version": "1.0.0",
        "description": "Né pour la boulangerie",
    }
    r = await client.post("/api/v1/modules", json=body, headers=operator.headers)
    assert r.status_code == 201 and r.json()["kind"] == "specifique"
    assert (await client.post("/api/v1/modules", json=body, headers=operator.headers)).status_code == 409
    bad = await client.post(
        "/api/v1/modules", headers=operator.headers, json={**body, "key": "other", "depends_on": ["nope"]}
    )
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    r = await client.patch("/api/v1/modules/booking_widget", json={"version": "1.1.0"}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["version"] == "1.1.0"
    r = await client.patch("/api/v1/modules/chat", json={"version": "2.0.0"}, headers=operator.headers)
    assert r.status_code == 422 and r.json()["code"] == "module_rule_violation"
    assert await sql.fetchval("select count(*) from audit_log where entity_type = 'module'") == 2


async def test_activation_checks_compatibility_and_dependencies(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    base = f"/api/v1/clients/{tenant_b.id}/config/modules"  # a One client
    r = await client.put(f"{base}/journey", headers=operator.headers)
    assert r.status_code == 422 and "not available on the one dashboard" in r.json()["detail"]
    r = await client.put(f"{base}/own_billing", headers=operator.headers)
    assert r.status_code == 422 and "depends on client_crm" in r.json()["detail"]
    assert (await client.put(f"{base}/client_crm", headers=operator.headers)).status_code == 200
    r = await client.put(f"{base}/own_billing", headers=operator.headers)
    assert r.status_code == 200 and "own_billing" in r.json()["active_modules"]
    r = await client.delete(f"{base}/client_crm", headers=operator.headers)
    assert r.status_code == 422 and "own_billing" in r.json()["detail"]
    r = await client.delete(f"{base}/notifications", headers=operator.headers)
    assert r.status_code == 422 and "socle" in r.json()["detail"]
    assert (await client.delete(f"{base}/own_billing", headers=operator.headers)).status_code == 200
    assert (await client.put(f"{base}/unknown_mod", headers=operator.headers)).status_code == 404


async def test_dashboard_change_refused_while_incompatible_modules_are_active(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    r = await client.patch(
        f"/api/v1/clients/{tenant_a.id}/config", headers=operator.headers, json={"dashboard_type": "one"}
    )
    assert r.status_code == 422 and "journey" in r.json()["detail"]
    r = await client.patch(
        f"/api/v1/clients/{tenant_a.id}/config",
        headers=operator.headers,
        json={"theme": {"preset": "ocean"}, "custom_config": {"kpis": ["ca"]}},
    )
    assert r.status_code == 200 and r.json()["theme"] == {"preset": "ocean"}


async def test_members_read_their_config_but_cannot_change_it(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    assert (
        await client.get(f"/api/v1/clients/{tenant_a.id}/config", headers=tenant_a.member.headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/clients/{tenant_b.id}/config", headers=tenant_a.member.headers)
    ).status_code == 404
    assert (
        await client.put(f"/api/v1/clients/{tenant_a.id}/config/modules/wellbeing", headers=tenant_a.member.headers)
    ).status_code == 403
    assert (
        await client.patch(f"/api/v1/clients/{tenant_a.id}/config", json={"theme": {}}, headers=tenant_a.member.headers)
    ).status_code == 403
    assert (
        await client.post(
            "/api/v1/modules",
            headers=tenant_a.member.headers,
            json={"key": "x_mod", "name": "X", "dashboards": ["lab"]},
        )
    ).status_code == 403


async def test_navigation_follows_the_dashboard_and_active_modules(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    lab = (await client.get("/api/v1/me/navigation", headers=tenant_a.member.headers)).json()
    keys = [i["key"] for i in lab["items"]]
    assert lab["dashboard"] == "lab" and lab["client_id"] == str(tenant_a.id)
    assert keys[:8] == ["profile", "navigation", "search", "notifications", "theme", "help", "agent", "daily_context"]
    assert "journey" in keys and "wellbeing" not in keys
    one = (await client.get("/api/v1/me/navigation", headers=tenant_b.member.headers)).json()
    assert one["dashboard"] == "one" and "home" in [i["key"] for i in one["items"]]
    hub = (await client.get("/api/v1/me/navigation", headers=operator.headers)).json()
    assert hub["dashboard"] == "hub" and "clients" in [i["key"] for i in hub["items"]]


async def test_dependency_cycles_are_refused(client: httpx.AsyncClient, operator: User) -> None:
    for key, deps in (("mod_a", []), ("mod_b", ["mod_a"])):
        r = await client.post(
            "/api/v1/modules",
            headers=operator.headers,
            json={"key": key, "name": key, "dashboards": ["one"], "depends_on": deps},
        )
        assert r.status_code == 201, r.text
    r = await client.patch("/api/v1/modules/mod_a", json={"depends_on": ["mod_b"]}, headers=operator.headers)
    assert r.status_code == 422 and "itself" in r.json()["detail"]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    "body, field",
    [
        ({"custom_config": _nested(300)}, "custom_config"),
        ({"custom_config": _nested(33)}, "custom_config"),
        ({"theme": {"primary": "x\ud800y"}}, "theme"),
        ({"custom_config": {"x\ud800y": 1}}, "custom_config"),
        ({"theme": {"primary": "a\u0000b"}}, "theme"),
        ({"custom_config": {"n": 2**64}}, "custom_config"),
        ({"custom_config": {"blob": "x" * (65 * 1024)}}, "custom_config"),
    ],
)
async def test_free_form_json_is_bounded_and_encodable(
    client: httpx.AsyncClient,
    operator: User,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    body: dict[str, Any],
    field: str,
) -> None:
    url = f"/api/v1/clients/{tenant_a.id}/config"
    # httpx's encoder refuses lone surrogates: send the JSON text with them escaped, as a browser would.
    r = await client.patch(
        url, headers={**operator.headers, "content-type": "application/json"}, content=json.dumps(body)
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await sql.fetchval("select count(*) from audit_log") == 0


async def test_free_form_json_within_the_bounds_is_stored(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    body = {"custom_config": _nested(32), "theme": {"primary": "#ff6600", "ratio": 1.5, "emoji": "🦊"}}
    r = await client.patch(f"/api/v1/clients/{tenant_a.id}/config", headers=operator.headers, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["custom_config"] == body["custom_config"] and r.json()["theme"] == body["theme"]


async def test_module_position_is_a_strict_integer(client: httpx.AsyncClient, operator: User) -> None:
    body = {"key": "strict_widget", "name": "Strict", "dashboards": ["one"], "position": False}
    r = await client.post("/api/v1/modules", json=body, headers=operator.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "position", r.text
