"""Hot reads: the few GET routes the SPAs call most, answered without FastAPI's per-request machinery.

Each hot read is also declared as a normal FastAPI route (OpenAPI contract, and every request the hot
path declines: unexpected query parameters, invalid values, a missing token…), and calls the same
service function with the same request transaction, principal and problem responses, so both paths
answer identically (tests/api/test_hot.py compares them). Measured in bench/api_bench.py."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import PRINCIPAL_KEY
from api.middleware import TRANSACTION_KEY, RequestTransaction
from api.problems import problem_response
from services.clients import service as clients
from services.core.auth import TokenVerifier
from services.core.db import UserSession
from services.core.errors import FoxeoError
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

Handler = Callable[[UserSession, re.Match[str], dict[str, str]], Awaitable[bytes]]


class Decline(Exception):
    """The hot path does not handle this request: FastAPI's route will."""


@dataclass(frozen=True)
class HotRead:
    pattern: re.Pattern[str]
    allowed_query: frozenset[str]
    handler: Handler


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise Decline from None


async def _get_client(session: UserSession, match: re.Match[str], _: dict[str, str]) -> bytes:
    return await clients.get_client_json(session, _uuid(match.group(1)))


_CLIENT_SORTS = frozenset({"created_at", "-created_at", "updated_at", "-updated_at", "company_name", "-company_name"})


async def _list_clients(session: UserSession, _: re.Match[str], query: dict[str, str]) -> bytes:
    limit_text = query.get("limit", str(DEFAULT_LIMIT))
    sort = query.get("sort", "-created_at")
    cursor = query.get("cursor")
    # isascii: str.isdigit() also accepts digits int() refuses ('²')
    if (
        not (limit_text.isascii() and limit_text.isdigit())
        or not 1 <= int(limit_text) <= MAX_LIMIT
        or sort not in _CLIENT_SORTS
        or (cursor is not None and not 0 < len(cursor) <= 500)
    ):
        raise Decline
    return await clients.list_clients_json(
        session, status=None, temperature=None, tag=None, q=None, sort=sort, cursor=cursor, limit=int(limit_text)
    )


HOT_READS = (
    HotRead(re.compile(r"^/api/v1/clients/([^/]+)$"), frozenset(), _get_client),
    HotRead(re.compile(r"^/api/v1/clients$"), frozenset({"limit", "sort", "cursor"}), _list_clients),
)


def _query(scope: Scope, allowed: frozenset[str]) -> dict[str, str]:
    raw = scope.get("query_string", b"")
    if not raw:
        return {}
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs) or not query.keys() <= allowed:
        raise Decline
    return query


class HotReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            for hot in HOT_READS:
                match = hot.pattern.match(path)
                if match is not None:
                    try:
                        await self._answer(hot, match, scope, send)
                        return
                    except Decline:
                        break
        await self.app(scope, receive, send)

    async def _answer(self, hot: HotRead, match: re.Match[str], scope: Scope, send: Send) -> None:
        query = _query(scope, hot.allowed_query)
        token = _bearer(scope)
        verifier: TokenVerifier = scope["app"].state.verifier
        try:
            principal = await verifier.verify(token)
        except FoxeoError:
            raise Decline from None  # FastAPI's route answers the problem (401, or 503 without JWKS)
        scope[PRINCIPAL_KEY] = principal
        transaction: RequestTransaction = scope[TRANSACTION_KEY]
        try:
            body = await hot.handler(await transaction.open(principal), match, query)
        except FoxeoError as exc:
            await problem_response(exc.status, exc.code, exc.title, exc.detail, **exc.extra)(scope, _receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _bearer(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    raise Decline


async def _receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}
