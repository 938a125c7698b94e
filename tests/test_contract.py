"""The API contract: every route authenticated, documented, with stable ids; the committed OpenAPI
document matches the app."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import get_args

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, PlainSerializer
from pydantic.fields import FieldInfo

from api.app import create_app
from services.core.settings import Settings

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
# Routes that authenticate by other means: signed links, vendor signatures, probes.
PUBLIC_TAGS = {"health", "storage", "webhooks", "previsio"}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(SUPABASE_JWT_SECRET="x" * 40, DATABASE_URL="postgresql://unused/db"))


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every API route with its full path. Included routers are not copied into `app.routes` (they
    appear there as one entry each): filtering `app.routes` alone found no route at all, and every
    sweep below passed without checking anything."""
    routes: list[tuple[str, APIRoute]] = []
    for c in iter_route_contexts(app.routes):
        if isinstance(c.original_route, APIRoute):
            assert c.path is not None  # every API route is served at a path
            routes.append((c.path, c.original_route))
    assert len(routes) > 50, "the route sweep sees too few routes"
    return routes


def test_committed_openapi_matches_the_app(app: FastAPI) -> None:
    committed = json.loads(OPENAPI_FILE.read_text())
    assert committed == app.openapi(), "openapi/openapi.json is stale: run `foxeo openapi`"


def test_every_route_has_a_tag_docstring_and_stable_operation_id(app: FastAPI) -> None:
    seen = set()
    operations = app.openapi()["paths"]
    for path, route in api_routes(app):
        assert len(route.tags) == 1, path
        assert route.description or route.endpoint.__doc__, f"{path} has no docstring"
        assert route.methods is not None  # an APIRoute always has its methods
        for method in route.methods:
            operation_id = operations[re.sub(r":\w+}", "}", path)][method.lower()]["operationId"]
            assert re.fullmatch(rf"{route.tags[0]}-[a-z_]+", operation_id), operation_id
            assert operation_id not in seen
            seen.add(operation_id)
        # Streams (events) and raw stored bytes (storage) have no JSON model.
        raw = {"events", "storage"} & set(route.tags)
        assert route.response_model is not None or route.status_code == 204 or raw, path


def test_every_protected_route_declares_its_401(app: FastAPI) -> None:
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if set(operation.get("tags", [])) & PUBLIC_TAGS:
                continue
            assert "401" in operation["responses"], f"{method.upper()} {path}"
            assert "application/problem+json" in operation["responses"]["401"]["content"]


async def test_every_protected_route_answers_401_without_a_token(settings: Settings) -> None:
    # The real app with its lifespan (the module's `app` has no database: every request would fail).
    served = create_app(settings)
    async with (
        served.router.lifespan_context(served),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://test") as client,
    ):
        await _sweep_without_token(served, client)


async def _sweep_without_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    for template, route in api_routes(app):
        if set(route.tags) & PUBLIC_TAGS:
            continue
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        assert route.methods is not None  # an APIRoute always has its methods
        for method in route.methods:
            r = await client.request(method, path)
            assert r.status_code == 401, f"{method} {template} -> {r.status_code}"
            assert r.json()["code"] == "unauthorized"


def _models(annotation: object, seen: set[type]) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.add(annotation)
            yield annotation
            for field in annotation.model_fields.values():
                yield from _models(field.annotation, seen)
    for arg in get_args(annotation):
        yield from _models(arg, seen)


def _is_plain_datetime(field: FieldInfo) -> bool:
    types = {field.annotation, *get_args(field.annotation)}
    serialized = any(isinstance(m, PlainSerializer) for m in field.metadata)
    return datetime in types and not serialized


def test_every_timestamp_in_a_response_is_written_one_way(app: FastAPI) -> None:
    """Responses rendered by pydantic write timestamps as Postgres does (services/core/schemas.py)."""
    seen: set[type] = set()
    plain = [
        f"{model.__name__}.{name}"
        for _, route in api_routes(app)
        for model in _models(route.response_model, seen)
        for name, field in model.model_fields.items()
        if _is_plain_datetime(field)
    ]
    assert not plain, f"use services.core.schemas.Timestamp for {plain}"
