"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request)."""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core.auth import Principal
from services.core.context import request_id_var
from services.core.db import Database, UserSession

log = logging.getLogger("foxeo.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# Request ids: a random per-process prefix and a counter — unique without a syscall per request.
_ID_PREFIX = uuid.uuid4().hex[:12]
_ids = itertools.count(1)
TRANSACTION_KEY = "foxeo.transaction"
# Uvicorn's httptools parser accepts headers of any size: bound their total here, before any of
# them (the bearer token, X-Request-ID) is read. Browsers and proxies stay far below this.
MAX_HEADER_BYTES = 32 * 1024


class RequestTransaction:
    """The request's one database transaction, opened on first use by the `Session` dependency and
    ended by `RequestContext` just before the response starts: committed for a success status,
    rolled back for an error status or an exception. A failed commit becomes a 500, never a lost
    write behind a 200. GET and HEAD requests only read: their session is read-only, without a
    transaction to end; a route whose write is one statement asks for a one-statement session, which
    has none either (see services/core/db.py)."""

    __slots__ = ("db", "read_only", "request_id", "session")

    def __init__(self, db: Database, request_id: str, *, read_only: bool) -> None:
        self.db = db
        self.request_id = request_id
        self.read_only = read_only
        self.session: UserSession | None = None

    async def open(self, principal: Principal, *, one_statement: bool = False) -> UserSession:
        if self.session is None:
            self.session = await self.db.begin_user_session(
                principal, self.request_id, read_only=self.read_only, one_statement=one_statement
            )
        return self.session

    async def end(self, *, commit: bool) -> None:
        session, self.session = self.session, None
        if session is not None:
            await self.db.end_user_session(session, commit=commit)


def _problem_messages(request_id: str, status: int, code: str, title: str, detail: str) -> tuple[Message, Message]:
    body = orjson.dumps(
        {
            "type": f"https://foxeo.fr/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "request_id": request_id,
        }
    )
    return (
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    )


async def _refuse_headers(send: Send) -> None:
    request_id = f"{_ID_PREFIX}-{next(_ids):x}"  # the caller's X-Request-ID is not read from these
    detail = f"the request headers exceed {MAX_HEADER_BYTES // 1024} KiB in total"
    for part in _problem_messages(request_id, 431, "headers_too_large", "Request headers too large", detail):
        await send(part)


def _is_plain_body_limit(message: Message) -> bool:
    """Starlette's body-size limiter answers 413 in text/plain, outside our exception handlers."""
    return message["status"] == 413 and any(
        k == b"content-type" and v.startswith(b"text/plain") for k, v in message.get("headers", ())
    )


class RequestContext:
    """A request id on every response and log line (the caller's `X-Request-ID` if sane), the
    request's transaction boundary, and one access log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            await _refuse_headers(send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else f"{_ID_PREFIX}-{next(_ids):x}"
        token = request_id_var.set(request_id)
        transaction = scope[TRANSACTION_KEY] = RequestTransaction(
            scope["app"].state.db, request_id, read_only=scope["method"] in ("GET", "HEAD")
        )
        began = time.perf_counter()
        status = 500
        swallow = started = False

        async def send_with_context(message: Message) -> None:
            nonlocal status, swallow, started
            if swallow:
                return
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                replacement = None
                if transaction.session is not None:
                    try:
                        await transaction.end(commit=status < 400)
                    except Exception:
                        log.exception("commit failed")
                        replacement = _problem_messages(
                            request_id,
                            500,
                            "commit_failed",
                            "Internal error",
                            "the change could not be saved; nothing was written",
                        )
                if replacement is None and _is_plain_body_limit(message):
                    replacement = _problem_messages(
                        request_id, 413, "payload_too_large", "Payload too large", "the request body is too large"
                    )
                if replacement is not None:
                    status, swallow = replacement[0]["status"], True
                    for part in replacement:
                        await send(part)
                    return
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_context)
        except Exception:
            # What FastAPI's handlers did not answer: Starlette's ServerErrorMiddleware, outside this
            # one, would answer without the request id. It still logs the error (with the request id,
            # which is kept set for it) and re-raises.
            failed = True
            if transaction.session is not None:
                await transaction.end(commit=False)
            if not started:
                for part in _problem_messages(
                    request_id,
                    500,
                    "internal_error",
                    "Internal error",
                    "an unexpected error occurred; quote the request id to support",
                ):
                    await send(part)
            raise
        finally:
            if transaction.session is not None:  # an exception, or no response at all
                await transaction.end(commit=False)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - began) * 1000, 2),
                    },
                )
            if not failed:
                request_id_var.reset(token)
