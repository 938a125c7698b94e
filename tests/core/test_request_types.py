"""Guard: every JSON request body enforces what its schema declares.

FastAPI validates a parsed body in pydantic's lax Python mode (`false` is an integer there, `0` a
date), so request schemas must use the strict types of services/core/input_types.py and, for
free-form JSON, services/core/json_limits.JsonObject. This walks the pydantic core schema of every
route's body and names each field that would coerce.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.params import Body
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.routers import ROUTERS
from services.core.input_types import STRICT_VALIDATORS
from services.core.json_limits import check_json

_GUARDED_FUNCTIONS = {*STRICT_VALIDATORS, check_json}


def _json_bodies() -> list[tuple[str, Any]]:
    bodies = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for param in route.dependant.body_params:
                    # Multipart form fields are text by nature; only JSON bodies are checked here.
                    if type(param.field_info) is Body:
                        assert route.methods is not None  # an APIRoute always has its methods
                        bodies.append((f"{sorted(route.methods)[0]} {route.path}", param.field_info.annotation))
    return bodies


def _lax_fields(schema: Any, path: str, found: list[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _lax_fields(item, path, found)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in ("function-before", "function-after") and schema["function"]["function"] in _GUARDED_FUNCTIONS:
        return  # a strict date, or bounded JSON: what it wraps is guarded
    if kind in ("int", "bool") and not schema.get("strict"):
        found.append(f"{path}: lax {kind}")
    elif kind in ("date", "datetime", "dict"):
        found.append(f"{path}: unguarded {kind}")
    for key, value in schema.items():
        if key == "fields" and isinstance(value, dict):
            for name, field in value.items():
                _lax_fields(field, f"{path}.{name}", found)
        elif key not in ("metadata", "serialization", "ref"):
            _lax_fields(value, path, found)


BODIES = _json_bodies()


def test_the_guard_sees_the_request_bodies() -> None:
    assert len(BODIES) >= 30
    assert any(route.startswith("PATCH /clients/{client_id}/config") for route, _ in BODIES)


@pytest.mark.parametrize("route, annotation", BODIES, ids=[route for route, _ in BODIES])
def test_request_bodies_use_strict_types(route: str, annotation: Any) -> None:
    found: list[str] = []
    _lax_fields(TypeAdapter(annotation).core_schema, "body", found)
    assert not found, f"{route}: {found}"


def test_the_guard_catches_lax_fields() -> None:
    from datetime import date

    class Lax(BaseModel):
        count: int
        flag: bool
        day: date
        blob: dict[str, Any]

    found: list[str] = []
    _lax_fields(TypeAdapter(Lax).core_schema, "body", found)
    assert [f.split(":")[0] for f in found] == ["body.count", "body.flag", "body.day", "body.blob"], found


@pytest.mark.parametrize(
    "model, body, field",
    [
        ("services.config.schemas.ModuleCreate", {"position": False}, "position"),
        ("services.projects.schemas.StepCreate", {"title": "t", "position": True}, "position"),
        ("services.clients.schemas.CrmProfile", {"birthday": 0}, "birthday"),
        ("services.projects.schemas.TaskUpdate", {"done": "yes"}, "done"),
        ("services.projects.schemas.TaskCreate", {"title": "t", "due_date": "0"}, "due_date"),
        ("services.documents.schemas.DocumentUpdate", {"homework_due_at": 1700000000}, "homework_due_at"),
        ("services.validations.schemas.ApproveInput", {"round": 1.0}, "round"),
    ],
)
def test_lax_coercions_are_refused(model: str, body: dict[str, Any], field: str) -> None:
    module, _, name = model.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    with pytest.raises(ValidationError) as refused:
        cls.model_validate(body)
    assert field in {str(e["loc"][0]) for e in refused.value.errors()}


def test_iso_dates_are_still_accepted() -> None:
    from services.clients.schemas import CrmProfile
    from services.documents.schemas import DocumentUpdate

    assert str(CrmProfile.model_validate({"birthday": "1990-05-17"}).birthday) == "1990-05-17"
    due = DocumentUpdate.model_validate({"homework_due_at": "2030-01-02T10:00:00Z"}).homework_due_at
    assert due is not None and due.year == 2030


def _null_cases() -> list[tuple[str, type[BaseModel], str, bool]]:
    cases = []
    for route, annotation in BODIES:
        model = next((a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type)), None)
        if model is None or not issubclass(model, BaseModel):
            continue
        properties = model.model_json_schema()["properties"]
        for name, prop in properties.items():
            if name in model.model_fields and not model.model_fields[name].is_required():
                nullable = prop.get("type") == "null" or {"type": "null"} in prop.get("anyOf", ())
                cases.append((route, model, name, nullable))
    return cases


def _errors(model: type[BaseModel], body: dict[str, Any]) -> set[tuple[str, tuple[Any, ...]]]:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return {(e["type"], tuple(e["loc"])) for e in exc.errors()}
    return set()


@pytest.mark.parametrize("route, model, name, nullable", _null_cases(), ids=[f"{c[0]} {c[2]}" for c in _null_cases()])
def test_null_is_accepted_exactly_where_the_schema_declares_it(
    route: str, model: type[BaseModel], name: str, nullable: bool
) -> None:
    # Compared with the errors of an empty body: other required fields or a model rule may refuse it.
    refused = bool(_errors(model, {name: None}) - _errors(model, {}))
    assert refused != nullable, f"{route}: {name} is declared {'' if nullable else 'not '}nullable"


def test_tag_rules_are_declared_in_the_schema() -> None:
    from services.clients.schemas import ClientCreate

    items = ClientCreate.model_json_schema()["properties"]["tags"]["items"]
    assert items["pattern"] and items["maxLength"] == 40 and items["minLength"] == 1
    assert ClientCreate.model_validate({"company_name": "x", "tags": [" Café ", "café"]}).tags == ["café"]
    with pytest.raises(ValidationError):
        ClientCreate.model_validate({"company_name": "x", "tags": ["a/b"]})
