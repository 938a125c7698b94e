"""A real uvicorn server on a free port around the test app (httpx's ASGI transport buffers whole
responses, so it cannot read a stream), and a small SSE reader."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import User


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    app.state.events.close_streams("test over")
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


@dataclass
class SseEvent:
    event: str
    data: Any
    id: str | None


@dataclass
class Stream:
    response: httpx.Response
    lines: AsyncIterator[str]
    last_id: str | None = None
    received: list[SseEvent] = field(default_factory=list)

    async def next(self, within: float = 5) -> SseEvent:
        fields: dict[str, str] = {}
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line == "":
                    if "event" in fields or "data" in fields:
                        data = fields.get("data")
                        event = SseEvent(
                            fields.get("event", "message"), orjson.loads(data) if data else None, fields.get("id")
                        )
                        if event.id:
                            self.last_id = event.id
                        self.received.append(event)
                        return event
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
        raise EOFError("stream ended")

    async def until(self, name: str, within: float = 5) -> SseEvent:
        while True:
            event = await self.next(within)
            if event.event == name:
                return event


class OpenStream(Protocol):
    """`await open_stream(user, last_event_id=None)`: an open SSE stream as that user."""

    async def __call__(self, user: User, last_event_id: str | None = None) -> Stream: ...


@pytest.fixture
async def open_stream(live_url: str) -> AsyncIterator[OpenStream]:
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=live_url, timeout=10))

        async def open_(user: User, last_event_id: str | None = None) -> Stream:
            headers = {**user.headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
            response = await stack.enter_async_context(http.stream("GET", "/api/v1/events", headers=headers))
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            return Stream(response, response.aiter_lines())

        yield open_
