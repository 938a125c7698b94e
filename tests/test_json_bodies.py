"""Every GET route answering JSON is called with a seeded world, as the operator and as a member, and its
body validated against the route's response model (tests/contract_check.py): the guard fails when a GET
route was never seen answering successfully, so a new list or detail route joins the check."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from tests import contract_check
from tests.conftest import World
from tests.contract.routes import ServedRoute, api_routes
from tests.contract.seed import seed

# Not JSON: the SSE stream and the signed-link object download (bytes).
# Lists scoped by a required query parameter, filled from the seeded ids like path parameters.
REQUIRED_QUERY = {"/api/v1/meetings": ("client_id",), "/api/v1/transcripts": ("meeting_id",)}
NOT_JSON = {"GET /api/v1/events", "GET /api/v1/storage/object/sign/{bucket}/{path:path}"}


def json_get_routes(app: FastAPI) -> list[ServedRoute]:
    return [r for r in api_routes(app) if "GET" in r.methods and f"GET {r.path}" not in NOT_JSON]


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids[m.group(1)], path)


async def test_every_json_get_route_answers_a_body_its_model_accepts(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    seeded = await seed(client, world)
    contract_check.checked_routes.clear()
    ids = {**seeded.shared, **seeded.a.ids}
    routes = json_get_routes(app)
    assert len(routes) > 30  # derived from the app, not empty
    for route in routes:
        for user in (seeded.operator, seeded.a.tenant.member):
            params = {name: ids[name] for name in REQUIRED_QUERY.get(route.path, ())}
            r = await client.get(fill(route.path, ids), params=params, headers=user.headers)
            assert r.status_code in (200, 403), f"GET {route.path} as {user.email}: {r.status_code} {r.text}"
    missing = {r.checked_key("GET") for r in routes} - contract_check.checked_routes
    assert not missing, f"GET routes never validated against their response model: {sorted(missing)}"
