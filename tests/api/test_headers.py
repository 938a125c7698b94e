"""Request headers are bounded in total before anything reads them (the bearer token included)."""

from __future__ import annotations

import httpx

from api.middleware import MAX_HEADER_BYTES
from tests.conftest import User


async def test_oversized_headers_are_a_431_problem_even_with_a_valid_token(
    client: httpx.AsyncClient, operator: User
) -> None:
    many = {f"x-filler-{i}": "y" * 1000 for i in range(1024)}  # 1 MB
    r = await client.get("/api/v1/me", headers={**operator.headers, **many})
    assert r.status_code == 431 and r.json()["code"] == "headers_too_large", r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["x-request-id"]


async def test_an_8_mb_authorization_header_is_refused_unparsed(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer " + "a" * (8 * 1024 * 1024)})
    assert r.status_code == 431


async def test_a_token_over_the_length_limit_is_a_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer " + "a" * (MAX_HEADER_BYTES // 2)})
    assert r.status_code == 401 and "longer than" in r.json()["detail"]


async def test_headers_under_the_bound_are_served(client: httpx.AsyncClient, operator: User) -> None:
    r = await client.get("/api/v1/me", headers={**operator.headers, "x-filler": "y" * (MAX_HEADER_BYTES // 2)})
    assert r.status_code == 200, r.text
