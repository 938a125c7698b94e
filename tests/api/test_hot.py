"""The hot reads answer exactly what the FastAPI routes answer (status, media type, body)."""

from __future__ import annotations

import uuid

import pytest

import api.hot


async def both_ways(client, monkeypatch, path, headers, params=None):
    hot = await client.get(path, headers=headers, params=params)
    with monkeypatch.context() as patch:
        patch.setattr(api.hot, "HOT_READS", ())
        plain = await client.get(path, headers=headers, params=params)
    assert (hot.status_code, hot.headers["content-type"]) == (plain.status_code, plain.headers["content-type"])
    hot_body, plain_body = hot.json(), plain.json()
    for body in (hot_body, plain_body):
        if isinstance(body, dict):
            body.pop("request_id", None)
    assert hot_body == plain_body
    return hot


@pytest.fixture
async def clients_(client, operator):
    for i in range(4):
        r = await client.post("/api/v1/clients", json={"company_name": f"Hot {i}"}, headers=operator.headers)
        assert r.status_code == 201


@pytest.mark.parametrize(
    "params",
    [
        None,
        {"limit": "2"},
        {"sort": "company_name", "limit": "3"},
        {"limit": "0"},
        {"sort": "nope"},
        {"status": "lab"},
        {"cursor": "x"},
        {"limit": "²"},
        {"limit": "٣"},
    ],
)
async def test_operator_list_is_identical(client, monkeypatch, operator, clients_, params):
    r = await both_ways(client, monkeypatch, "/api/v1/clients", operator.headers, params)
    if r.status_code == 200 and r.json()["next_cursor"]:
        await both_ways(
            client,
            monkeypatch,
            "/api/v1/clients",
            operator.headers,
            {**(params or {}), "cursor": r.json()["next_cursor"]},
        )


async def test_member_reads_are_identical(client, monkeypatch, tenant_a, tenant_b, operator):
    member = tenant_a.member.headers
    await both_ways(client, monkeypatch, f"/api/v1/clients/{tenant_a.id}", member)
    await both_ways(client, monkeypatch, f"/api/v1/clients/{tenant_b.id}", member)
    await both_ways(client, monkeypatch, f"/api/v1/clients/{uuid.uuid4()}", operator.headers)
    await both_ways(client, monkeypatch, "/api/v1/clients/not-a-uuid", member)
    await both_ways(client, monkeypatch, "/api/v1/clients", member)
    await both_ways(client, monkeypatch, f"/api/v1/clients/{tenant_a.id}", {})
    await both_ways(client, monkeypatch, f"/api/v1/clients/{tenant_a.id}", {"Authorization": "Bearer junk"})


async def test_hot_reads_carry_the_request_id_and_create_the_profile(client, tenant_a, sql):
    r = await client.get(f"/api/v1/clients/{tenant_a.id}", headers={**tenant_a.member.headers, "X-Request-ID": "hot-1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "hot-1"
    assert await sql.fetchval("select count(*) from profiles where user_id = $1", tenant_a.member.id) == 1


async def test_the_hot_path_is_really_taken(client, monkeypatch, tenant_a, operator, clients_):
    calls = []

    def counting(handler):
        async def wrapped(session, match, query):
            calls.append(handler.__name__)
            return await handler(session, match, query)

        return wrapped

    monkeypatch.setattr(
        api.hot,
        "HOT_READS",
        tuple(api.hot.HotRead(h.pattern, h.allowed_query, counting(h.handler)) for h in api.hot.HOT_READS),
    )
    assert (await client.get(f"/api/v1/clients/{tenant_a.id}", headers=tenant_a.member.headers)).status_code == 200
    assert (await client.get("/api/v1/clients", params={"limit": 2}, headers=operator.headers)).status_code == 200
    assert (await client.get("/api/v1/clients", params={"q": "hot"}, headers=operator.headers)).status_code == 200
    assert calls == ["_get_client", "_list_clients"]  # the filtered list went through FastAPI
