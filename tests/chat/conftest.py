from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import pytest

from tests.conftest import Tenant, User

OpenConversation = Callable[[User, Tenant], Awaitable[dict[str, Any]]]


class Send(Protocol):
    """`await send(user, conversation_id, body, **more)` → the created message."""

    async def __call__(self, user: User, conversation_id: str, body: str = ..., **more: Any) -> dict[str, Any]: ...


@pytest.fixture
def open_conversation(client: httpx.AsyncClient) -> OpenConversation:
    """`await open_conversation(user, tenant)` → the client's direct conversation as `user` sees it."""

    async def open_(user: User, tenant: Tenant) -> dict[str, Any]:
        r = await client.put(f"/api/v1/chat/clients/{tenant.id}/conversation", headers=user.headers)
        assert r.status_code == 200, r.text
        conversation: dict[str, Any] = r.json()
        return conversation

    return open_


@pytest.fixture
def send(client: httpx.AsyncClient) -> Send:
    """`await send(user, conversation_id, body, **more)` → the created message."""

    async def send_(user: User, conversation_id: str, body: str = "hello", **more: Any) -> dict[str, Any]:
        r = await client.post(
            f"/api/v1/chat/conversations/{conversation_id}/messages", headers=user.headers, json={"body": body, **more}
        )
        assert r.status_code == 201, r.text
        message: dict[str, Any] = r.json()
        return message

    return send_
