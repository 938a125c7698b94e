"""Clients: operator CRUD, filters, keyset pagination, validation, and a member's own record."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User

VALID_SIRET = "73282932000074"  # Luhn-valid


async def create(client: httpx.AsyncClient, operator: User, **fields: Any) -> dict[str, Any]:
    body = {"company_name": "Studio Nova", **fields}
    r = await client.post("/api/v1/clients", json=body, headers=operator.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_create_read_update_archive_restore(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection
) -> None:
    created = await create(
        client,
        operator,
        siret=VALID_SIRET,
        tags=["Branding", "branding", "vip"],
        email="hello@nova.example.com",
        crm={"birthday": "1990-04-02", "personal_notes": "aime le vélo"},
    )
    assert created["tags"] == ["branding", "vip"]
    assert created["crm"]["personal_notes"] == "aime le vélo"
    config = await sql.fetchrow(
        "select dashboard_type, active_modules from client_configs where client_id = $1", uuid.UUID(created["id"])
    )
    assert config["dashboard_type"] == "lab" and "journey" in config["active_modules"]

    r = await client.patch(
        f"/api/v1/clients/{created['id']}",
        headers=operator.headers,
        json={"city": "Lyon", "crm": {"notes": "rdv mardi"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["city"] == "Lyon" and r.json()["crm"]["notes"] == "rdv mardi"
    assert r.json()["crm"]["personal_notes"] == "aime le vélo"

    r = await client.get(f"/api/v1/clients/{created['id']}", headers=operator.headers)
    assert r.status_code == 200 and r.json()["crm"]["birthday"] == "1990-04-02"

    r = await client.post(f"/api/v1/clients/{created['id']}/archive", headers=operator.headers)
    assert r.status_code == 200 and r.json()["status"] == "archived"
    again = await client.post(f"/api/v1/clients/{created['id']}/archive", headers=operator.headers)
    assert again.status_code == 409 and again.json()["code"] == "client_already_archived"
    r = await client.post(f"/api/v1/clients/{created['id']}/restore", headers=operator.headers)
    assert r.status_code == 200 and r.json()["status"] == "prospect" and r.json()["archived_at"] is None

    actions = [r["action"] for r in await sql.fetch("select action from audit_log order by id")]
    assert actions == ["client.created", "client.updated", "client.archived", "client.restored"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"company_name": "X", "siret": "73282932000075"}, "siret"),
        ({"company_name": "X", "siret": "1234"}, "siret"),
        ({"company_name": ""}, "company_name"),
        ({"company_name": "X", "email": "nope"}, "email"),
        ({"company_name": "X", "status": "archived"}, "status"),
        ({"company_name": "X", "prospect_temperature": "tepid"}, "prospect_temperature"),
        ({"company_name": "X", "tags": ["../etc"]}, "tags"),
        ({"company_name": "X", "unknown": 1}, "unknown"),
    ],
)
async def test_invalid_input_is_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/api/v1/clients", json=body, headers=operator.headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "validation_error"
    assert any(e["field"].startswith(field) for e in problem["errors"])
    assert await sql.fetchval("select count(*) from clients") == 0
    assert await sql.fetchval("select count(*) from audit_log") == 0


async def test_filters_search_and_keyset_pagination(client: httpx.AsyncClient, operator: User) -> None:
    for i in range(7):
        await create(
            client,
            operator,
            company_name=f"Company {i:02d}",
            status="lab" if i % 2 else "prospect",
            prospect_temperature="hot" if i < 3 else "cold",
            tags=["even"] if i % 2 == 0 else [],
            city="Lyon" if i == 5 else "Paris",
        )
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 3, "sort": "company_name", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/clients", params=params, headers=operator.headers)).json()
        seen += [c["company_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Company {i:02d}" for i in range(7)]

    async def names(**params: str) -> list[str]:
        r = await client.get("/api/v1/clients", params=params, headers=operator.headers)
        assert r.status_code == 200, r.text
        return sorted(c["company_name"] for c in r.json()["items"])

    assert await names(status="lab") == ["Company 01", "Company 03", "Company 05"]
    assert await names(temperature="hot") == ["Company 00", "Company 01", "Company 02"]
    assert await names(tag="even") == ["Company 00", "Company 02", "Company 04", "Company 06"]
    assert await names(q="lyon") == ["Company 05"]
    assert await names(q="100%") == []
    desc = (
        await client.get("/api/v1/clients", params={"sort": "-created_at", "limit": 2}, headers=operator.headers)
    ).json()
    assert [c["company_name"] for c in desc["items"]] == ["Company 06", "Company 05"]
    bad = await client.get("/api/v1/clients", params={"cursor": "garbage!"}, headers=operator.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "unprocessable"


async def test_archived_clients_are_hidden_unless_asked(client: httpx.AsyncClient, operator: User) -> None:
    kept = await create(client, operator, company_name="Kept")
    gone = await create(client, operator, company_name="Gone")
    assert (await client.post(f"/api/v1/clients/{gone['id']}/archive", headers=operator.headers)).status_code == 200
    default = (await client.get("/api/v1/clients", headers=operator.headers)).json()["items"]
    assert [c["id"] for c in default] == [kept["id"]]
    archived = (await client.get("/api/v1/clients", params={"status": "archived"}, headers=operator.headers)).json()[
        "items"
    ]
    assert [c["id"] for c in archived] == [gone["id"]]


async def test_member_reads_only_their_own_client_without_crm(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    await sql.execute("insert into client_crm_profiles (client_id, personal_notes) values ($1, 'secret')", tenant_a.id)
    own = await client.get(f"/api/v1/clients/{tenant_a.id}", headers=tenant_a.member.headers)
    assert own.status_code == 200 and own.json()["company_name"] == "Alpha Studio"
    assert own.json()["crm"] is None
    other = await client.get(f"/api/v1/clients/{tenant_b.id}", headers=tenant_a.member.headers)
    assert other.status_code == 404 and other.json()["code"] == "client_not_found"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/api/v1/clients", None),
        ("POST", "/api/v1/clients", {"company_name": "Mine"}),
        ("PATCH", "/api/v1/clients/{id}", {"city": "Nice"}),
        ("POST", "/api/v1/clients/{id}/archive", None),
        ("POST", "/api/v1/clients/{id}/restore", None),
    ],
)
async def test_members_cannot_manage_clients(
    client: httpx.AsyncClient,
    tenant_a: Tenant,
    sql: asyncpg.Connection,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    r = await client.request(method, path.format(id=tenant_a.id), json=body, headers=tenant_a.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert await sql.fetchval("select count(*) from clients") == 1
    assert await sql.fetchval("select count(*) from audit_log") == 0


@pytest.mark.parametrize("field", ["company_name", "status", "tags"])
async def test_clearing_a_required_field_is_422_not_500(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection, field: str
) -> None:
    r = await client.patch(f"/api/v1/clients/{tenant_a.id}", json={field: None}, headers=operator.headers)
    assert r.status_code == 422 and field in r.json()["detail"]
    assert await sql.fetchval("select count(*) from audit_log") == 0


async def test_unknown_client_is_404(client: httpx.AsyncClient, operator: User) -> None:
    r = await client.get(f"/api/v1/clients/{uuid.uuid4()}", headers=operator.headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/clients/not-a-uuid", headers=operator.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "client_id"


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-updated_at", "company_name", "-company_name"])
async def test_every_sort_pages_through_every_client_once(client: httpx.AsyncClient, operator: User, sort: str) -> None:
    for i in range(5):
        await create(client, operator, company_name=f"Sorted {i}")
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/clients", params=params, headers=operator.headers)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("values", [["abc", "not-a-uuid"], [1, 2], ["2026-01-01T00:00:00", "x"], [None, None]])
async def test_forged_cursors_are_422(client: httpx.AsyncClient, operator: User, values: list[object]) -> None:
    from services.core.pagination import encode_cursor

    r = await client.get("/api/v1/clients", params={"cursor": encode_cursor(*values)}, headers=operator.headers)
    assert r.status_code == 422, r.text
    r = await client.get(
        "/api/v1/clients", params={"cursor": encode_cursor(*values), "sort": "company_name"}, headers=operator.headers
    )
    assert r.status_code == 422, r.text


async def test_nul_characters_are_a_422_not_a_500(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection
) -> None:
    r = await client.post("/api/v1/clients", json={"company_name": "Nul\u0000Corp"}, headers=operator.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_value", r.text
    assert await sql.fetchval("select count(*) from clients") == 0


async def test_lab_one_status_changes_go_through_the_lifecycle(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    r = await client.patch(f"/api/v1/clients/{tenant_a.id}", json={"status": "one"}, headers=operator.headers)
    assert r.status_code == 409 and r.json()["code"] == "client_status_change_refused"
    assert "graduate" in r.json()["detail"]
    r = await client.patch(f"/api/v1/clients/{tenant_b.id}", json={"status": "lab"}, headers=operator.headers)
    assert r.status_code == 409
    r = await client.patch(f"/api/v1/clients/{tenant_a.id}", json={"status": "prospect"}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["status"] == "prospect"


async def test_oversized_json_bodies_are_413_before_authentication(client: httpx.AsyncClient) -> None:
    body = b'{"company_name": "' + b"x" * (1024 * 1024) + b'"}'
    r = await client.post("/api/v1/clients", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json", r.text


@pytest.mark.parametrize("params", [{"limit": "0"}, {"sort": "nope"}, {"limit": "²"}, {"limit": "٣"}])
async def test_invalid_list_parameters_are_422(
    client: httpx.AsyncClient, operator: User, params: dict[str, str]
) -> None:
    r = await client.get("/api/v1/clients", params=params, headers=operator.headers)
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text


async def test_a_member_reading_their_client_gets_the_request_id_and_a_profile(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.get(
        f"/api/v1/clients/{tenant_a.id}", headers={**tenant_a.member.headers, "X-Request-ID": "read-1"}
    )
    assert r.status_code == 200 and r.headers["x-request-id"] == "read-1"
    assert await sql.fetchval("select count(*) from profiles where user_id = $1", tenant_a.member.id) == 1
    junk = await client.get(f"/api/v1/clients/{tenant_a.id}", headers={"Authorization": "Bearer junk"})
    assert junk.status_code == 401 and junk.json()["code"] == "unauthorized"
