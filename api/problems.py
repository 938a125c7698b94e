"""RFC 9457 problem details: one model, one set of handlers mapping every typed error."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from integrations import errors as vendor
from services.core.context import request_id_var
from services.core.errors import FoxeoError

log = logging.getLogger("foxeo.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldError] | None = None


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


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declaration of the problems a route can answer."""
    described = {
        400: "Bad request",
        401: "Missing or invalid access token",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict with the current state",
        413: "Payload too large",
        422: "Invalid input",
        500: "Unexpected error",
        502: "Upstream service failed",
        503: "Service unavailable",
    }
    return {s: {"model": Problem, "description": described[s]} for s in statuses}


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are `application/problem+json` (FastAPI would label them with the route's own
    media type), and every route that can answer 401 requires the bearer token."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Supabase access token (or a `foxeo token` dev token in the embedded default)",
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if status[0] in "45" and content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: next(iter(content.values()))}
            if "401" in responses:
                operation["security"] = [{"bearerAuth": []}]
    return schema
