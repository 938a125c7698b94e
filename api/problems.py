"""RFC 9457 problem details: one model, one set of handlers mapping every typed error."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from integrations import errors as vendor
from services.core.context import request_id_var
from services.core.errors import FoxeoError

log = logging.getLogger("foxeo.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid input."""

    field: str = Field(description="Dotted path of the input (`limit`, `contact.email`; `body` for the whole body)")
    message: str = Field(description="What is wrong with it, in English")
    type: str = Field(description="Machine-readable reason, e.g. `missing`, `uuid_parsing`, `string_too_long`")


class Problem(BaseModel):
    """An RFC 9457 problem document. Some problems add members (503 `integration_not_configured` names
    the missing `setting`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI identifying the problem type")
    title: str = Field(description="Short summary of the problem type")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong with this request, in English")
    code: str = Field(description="Stable machine-readable code, e.g. `validation_error`, `not_found`")
    request_id: str | None = Field(None, description="Quote it to support: it is in the server logs")
    errors: list[FieldError] | None = Field(None, description="On 422: each invalid input")


class JSONBytes(Response):
    """JSON already serialised (by orjson or by Postgres)."""

    media_type = "application/json"


def problem_response(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body = {
        "type": f"https://foxeo.fr/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(orjson.dumps(body, default=str), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_DATABASE_REFUSALS: dict[type[Exception], tuple[int, str, str]] = {
    asyncpg.CharacterNotInRepertoireError: (422, "invalid_value", "Invalid value"),
    asyncpg.UntranslatableCharacterError: (422, "invalid_value", "Invalid value"),
    asyncpg.NumericValueOutOfRangeError: (422, "invalid_value", "Invalid value"),
    asyncpg.DatetimeFieldOverflowError: (422, "invalid_value", "Invalid value"),
    asyncpg.StringDataRightTruncationError: (422, "invalid_value", "Invalid value"),
    asyncpg.CheckViolationError: (422, "invalid_value", "Invalid value"),
    asyncpg.NotNullViolationError: (422, "invalid_value", "Invalid value"),
    asyncpg.ForeignKeyViolationError: (422, "invalid_reference", "Invalid reference"),
    asyncpg.UniqueViolationError: (409, "conflict", "Conflict"),
}


def _database_detail(exc: asyncpg.PostgresError) -> str:
    if isinstance(exc, (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)):
        return "a text value contains a character that cannot be stored (such as NUL)"
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return "a referenced object does not exist"
    if isinstance(exc, asyncpg.UniqueViolationError):
        return "this already exists"
    # The column is the caller's field; constraint names and the database's texts stay in the log.
    column = getattr(exc, "column_name", None)
    return f"a value is out of range or invalid ({column})" if column else "a value is out of range or invalid"


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(FoxeoError)
    async def _typed(_: Request, exc: FoxeoError) -> Response:
        return problem_response(exc.status, exc.code, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        malformed = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if malformed is not None:
            # Not a field to correct: the body is not JSON at all (pydantic puts the offset in `loc`).
            position = malformed.get("loc", ("body", "?"))[-1]
            reason = (malformed.get("ctx") or {}).get("error", "invalid JSON")
            return problem_response(
                400, "malformed_json", "Malformed request body", f"the body is not valid JSON: {reason} at {position}"
            )
        errors = [
            {"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(422, "validation_error", "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(vendor.IntegrationError)
    async def _vendor(_: Request, exc: vendor.IntegrationError) -> Response:
        if isinstance(exc, vendor.NotConfiguredError):
            return problem_response(
                503,
                "integration_not_configured",
                "Integration not configured",
                f"{exc.vendor} is not configured: set {exc.setting}",
                setting=exc.setting,
            )
        if isinstance(exc, vendor.TransientError):
            return problem_response(
                503,
                "integration_unavailable",
                "Upstream service unavailable",
                f"{exc.vendor} is unavailable, try again later",
            )
        log.warning("vendor refused request", extra={"vendor": exc.vendor, "error": exc.message})
        return problem_response(502, "integration_error", "Upstream service refused the request", exc.message)

    @app.exception_handler(asyncpg.PostgresError)
    async def _database(_: Request, exc: asyncpg.PostgresError) -> Response:
        # A safety net: the schemas and services should refuse bad input first; what reaches the
        # database's own checks is still the caller's bad input, not a server failure.
        status, code, title = _DATABASE_REFUSALS.get(type(exc), (0, "", ""))
        if not status:
            log.exception("unhandled database error")
            return problem_response(
                500, "internal_error", "Internal error", "an unexpected error occurred; quote the request id to support"
            )
        log.warning("database refused input", extra={"sqlstate": exc.sqlstate, "error": str(exc)})
        return problem_response(status, code, title, _database_detail(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(
            500, "internal_error", "Internal error", "an unexpected error occurred; quote the request id to support"
        )


_DESCRIBED = {
    400: "Malformed request body (not JSON, or an unreadable form)",
    401: "Missing or invalid access token",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid input: `errors` names each invalid field",
    500: "Unexpected error",
    502: "Upstream service failed",
    503: "Service unavailable",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declaration of the problems a route can answer."""
    return {s: {"model": Problem, "description": _DESCRIBED[s]} for s in statuses}


def _problem_entry(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIBED[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the generated document say what the handlers above really send.

    - FastAPI documents every 422 as its own `HTTPValidationError` (`detail` an array); the handler
      sends a `Problem` (`detail` a string, `errors` per field): every 422 becomes a `Problem` and
      FastAPI's two schemas are removed.
    - What any route can answer whatever its own declarations: with a body, 400 (not JSON), 413 (over
      the size limit) and 422; with parameters, 422.
    - Error responses are `application/problem+json` (FastAPI would label them with the route's own
      media type); routes that can answer 401 require the bearer token, the others none.
    """
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Supabase access token (or a `foxeo token` dev token in the embedded default)",
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            has_body = "requestBody" in operation
            if has_body or operation.get("parameters"):
                responses["422"] = _problem_entry(422)
            if has_body:
                responses.setdefault("400", _problem_entry(400))
                responses.setdefault("413", _problem_entry(413))
            for status, response in responses.items():
                content = response.get("content", {})
                if status[0] in "45" and content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: next(iter(content.values()))}
            operation["responses"] = dict(sorted(responses.items()))
            operation["security"] = [{"bearerAuth": []}] if "401" in responses else []
    return schema
