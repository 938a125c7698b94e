"""The baseline: a bare ASGI app on raw asyncpg running the same SQL under the same RLS setup as the
API (JWT verified, claims + role in one round trip, the query, commit) — no FastAPI, SQLAlchemy or
pydantic. The API's throughput divided by this one's is the cost of our own layers."""

from __future__ import annotations

import os
import re
from typing import Any

import asyncpg
import jwt
import orjson

from services.clients.repository import DETAIL_JSON, list_query
from services.core.db import no_session_reset, sql_literal
from services.core.pagination import encode_cursor, page_bytes

SECRET = os.environ["SUPABASE_JWT_SECRET"]
POOL_SIZE = int(os.environ.get("FOXEO_DB_POOL_SIZE", "10"))
_ONE = re.compile(r"^/api/v1/clients/([0-9a-f-]{36})$")
_pool: asyncpg.Pool | None = None
LIST_SQL, LIST_ARGS = list_query(
    status=None, temperature=None, tag=None, q=None, sort="-created_at", after=None, limit=50
)


async def _send(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The same pool settings as the API (no per-release RESET query).
                _pool = await asyncpg.create_pool(
                    os.environ["DATABASE_URL"],
                    min_size=2,
                    max_size=POOL_SIZE,
                    reset=no_session_reset,
                    server_settings={"timezone": "UTC"},
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _pool.close()  # type: ignore[union-attr]
                await send({"type": "lifespan.shutdown.complete"})
                return
    headers = dict(scope["headers"])
    token = headers.get(b"authorization", b"")[7:].decode()
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="authenticated")
    except jwt.PyJWTError:
        await _send(send, 401, b'{"detail":"unauthorized"}')
        return
    setup = (
        f"begin; select set_config('request.jwt.claims', {sql_literal(orjson.dumps(claims).decode())}, true);"
        " set local role authenticated;"
    )
    assert _pool is not None
    async with _pool.acquire() as conn:
        await conn.execute(setup)
        try:
            match = _ONE.match(scope["path"])
            if match:
                row = await conn.fetchval(DETAIL_JSON, match.group(1))
                status, body = (200, row.encode()) if row else (404, b'{"detail":"not found"}')
            else:
                rows = await conn.fetch(LIST_SQL, *LIST_ARGS)
                last = rows[49] if len(rows) > 50 else None
                cursor = encode_cursor(last["sort_key"], str(last["id"])) if last else None
                status, body = 200, page_bytes([r["json"] for r in rows[:50]], cursor)
        except BaseException:
            await conn.execute("rollback")
            raise
        await conn.execute("commit")
    await _send(send, status, body)
