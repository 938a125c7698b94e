"""Audit log: written by every mutation, readable by the operator only, filtered and paginated."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, User


async def test_operator_lists_audit_entries_with_filters_and_pages(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    for tenant in (tenant_a, tenant_b):
        r = await client.patch(f"/api/v1/clients/{tenant.id}", json={"city": "Lyon"}, headers=operator.headers)
        assert r.status_code == 200
    r = await client.get("/api/v1/audit", params={"client_id": str(tenant_a.id)}, headers=operator.headers)
    entries = r.json()["items"]
    assert [e["action"] for e in entries] == ["client.updated"]
    entry = entries[0]
    assert entry["actor_id"] == str(operator.id) and entry["actor_role"] == "operator"
    assert entry["before"]["city"] is None and entry["after"]["city"] == "Lyon"

    first = (await client.get("/api/v1/audit", params={"limit": 1}, headers=operator.headers)).json()
    second = (
        await client.get("/api/v1/audit", params={"limit": 1, "cursor": first["next_cursor"]}, headers=operator.headers)
    ).json()
    assert first["items"][0]["client_id"] == str(tenant_b.id)
    assert second["items"][0]["client_id"] == str(tenant_a.id) and second["next_cursor"] is None
    none = await client.get("/api/v1/audit", params={"action": "client.archived"}, headers=operator.headers)
    assert none.json()["items"] == []


async def test_request_id_given_by_the_caller_is_recorded(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    headers = {**operator.headers, "X-Request-ID": "trace-123"}
    r = await client.patch(f"/api/v1/clients/{tenant_a.id}", json={"city": "Nice"}, headers=headers)
    assert r.headers["x-request-id"] == "trace-123"
    entries = (await client.get("/api/v1/audit", headers=operator.headers)).json()["items"]
    assert entries[0]["request_id"] == "trace-123"


async def test_members_cannot_read_audit(client: httpx.AsyncClient, tenant_a: Tenant) -> None:
    r = await client.get("/api/v1/audit", headers=tenant_a.member.headers)
    assert r.status_code == 403


async def test_time_filters_accept_naive_and_aware_timestamps(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    assert (
        await client.patch(f"/api/v1/clients/{tenant_a.id}", json={"city": "Nice"}, headers=operator.headers)
    ).status_code == 200
    for since in ("2020-01-01T00:00:00", "2020-01-01T00:00:00+02:00"):
        r = await client.get("/api/v1/audit", params={"since": since}, headers=operator.headers)
        assert r.status_code == 200 and len(r.json()["items"]) == 1
    r = await client.get("/api/v1/audit", params={"until": "2020-01-01T00:00:00Z"}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_forged_audit_cursor_is_422(client: httpx.AsyncClient, operator: User) -> None:
    import base64

    for raw in (b'["12"]', b"[1180591620717411303424]", b"[true]", b"[null]", b"[1, 2]", b"{}"):
        cursor = base64.urlsafe_b64encode(raw).decode()
        r = await client.get("/api/v1/audit", params={"cursor": cursor}, headers=operator.headers)
        assert r.status_code == 422, (raw, r.text)


async def test_time_filters_out_of_range_are_422_naming_the_field(client: httpx.AsyncClient, operator: User) -> None:
    for field, value in (("since", "9999-12-31T23:59:59-14:00"), ("until", "0001-01-01T00:00:00+14:00")):
        r = await client.get("/api/v1/audit", params={field: value}, headers=operator.headers)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
