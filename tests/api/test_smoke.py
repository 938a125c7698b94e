import httpx

from tests.conftest import User


async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.headers["x-request-id"]


async def test_ready(client: httpx.AsyncClient) -> None:
    r = await client.get("/ready")
    assert r.status_code == 200, r.text


async def test_me(client: httpx.AsyncClient, operator: User) -> None:
    r = await client.get("/api/v1/me", headers=operator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_operator"] is True
