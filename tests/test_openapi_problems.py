"""The OpenAPI document describes the error bodies the server really sends: a `Problem` (RFC 9457) on
every 4xx/5xx, the 400/413/422 any route with a body can answer, the 422 of any route with
parameters; and the server's answers match that schema."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.app import create_app
from services.core.settings import Settings
from tests.conftest import User

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(Settings(SUPABASE_JWT_SECRET="x" * 40, DATABASE_URL="postgresql://unused/db"))
    return app.openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{method.upper()} {path}", op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_fastapi_validation_schemas_are_gone(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(spec)
    assert "ValidationError" not in spec["components"]["schemas"]


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    for name, op in operations(spec):
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert response["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, (name, status)


def test_routes_document_what_any_body_or_parameter_can_cause(spec: dict[str, Any]) -> None:
    for name, op in operations(spec):
        expected = set()
        if "requestBody" in op:
            expected |= {"400", "413", "422"}
        if op.get("parameters"):
            expected.add("422")
        assert expected <= set(op["responses"]), (name, sorted(expected - set(op["responses"])))


def test_problem_schema_documents_field_errors(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["properties"]["detail"]["type"] == "string"
    errors = problem["properties"]["errors"]["anyOf"][0]
    assert errors == {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}}
    assert set(spec["components"]["schemas"]["FieldError"]["required"]) == {"field", "message", "type"}


def assert_is_problem(body: dict[str, Any], status: int, spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["Problem"]
    assert set(schema["required"]) <= set(body), body
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    for error in body.get("errors") or []:
        assert set(error) == {"field", "message", "type"}, error


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient, operator: User, spec: dict[str, Any]) -> None:
    r = await client.post(
        "/api/v1/clients",
        content=b'{"company_name": ',
        headers={**operator.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "malformed_json"
    assert_is_problem(r.json(), 400, spec)


async def test_invalid_input_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, operator: User, spec: dict[str, Any]
) -> None:
    r = await client.post("/api/v1/clients", json={"company_name": ""}, headers=operator.headers)
    assert r.status_code == 422
    assert_is_problem(r.json(), 422, spec)
    assert [e["field"] for e in r.json()["errors"]] == ["company_name"]

    r = await client.get("/api/v1/clients/not-a-uuid", headers=operator.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "client_id"


async def test_oversized_body_is_a_413_problem(client: httpx.AsyncClient, operator: User, spec: dict[str, Any]) -> None:
    body = b'{"company_name": "' + b"x" * (1024 * 1024) + b'"}'
    r = await client.post(
        "/api/v1/clients", content=body, headers={**operator.headers, "content-type": "application/json"}
    )
    assert r.status_code == 413
    assert_is_problem(r.json(), 413, spec)
