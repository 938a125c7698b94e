"""Every successful JSON response the tests receive is checked against its route's declared
`response_model`: bodies Postgres rendered (`JSONBytes`) never go through pydantic in production, so
this is where a column the model does not declare, a null it refuses or a value written in another
format (a timestamp, a number) is caught. The body must validate, and re-serialising the validated
model must give the same JSON back."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_adapters: dict[int, TypeAdapter[Any]] = {}
checked_routes: set[str] = set()


def _adapter(route: APIRoute) -> TypeAdapter[Any]:
    adapter = _adapters.get(id(route))
    if adapter is None:
        adapter = _adapters[id(route)] = TypeAdapter(route.response_model)
    return adapter


def check_body(route: APIRoute, body: bytes) -> None:
    adapter = _adapter(route)
    value = adapter.validate_json(body)
    sent = orjson.loads(body)
    again = orjson.loads(adapter.dump_json(value))
    assert again == sent, f"{route.path}: the body differs from its response model's rendering:\n{sent}\n{again}"
    checked_routes.add(f"{next(iter(route.methods))} {route.path}")


class ContractCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, json_body, chunks = 0, False, []

        async def capture(message: Message) -> None:
            nonlocal status, json_body
            if message["type"] == "http.response.start":
                status = message["status"]
                json_body = (b"content-type", b"application/json") in message.get("headers", [])
            elif message["type"] == "http.response.body" and json_body:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        route = scope.get("route")
        if isinstance(route, APIRoute) and route.response_model is not None and 200 <= status < 300 and json_body:
            check_body(route, b"".join(chunks))
