from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def open_conversation(client):
    """`await open_conversation(user, tenant)` → the client's direct conversation as `user` sees it."""

    async def open_(user: Any, tenant: Any) -> dict[str, Any]:
        r = await client.put(f"/api/v1/chat/clients/{tenant.id}/conversation", headers=user.headers)
        assert r.status_code == 200, r.text
        return r.json()

    return open_


@pytest.fixture
def send(client):
    """`await send(user, conversation_id, body, **more)` → the created message."""

    async def send_(user: Any, conversation_id: str, body: str = "hello", **more: Any) -> dict[str, Any]:
        r = await client.post(
            f"/api/v1/chat/conversations/{conversation_id}/messages", headers=user.headers, json={"body": body, **more}
        )
        assert r.status_code == 201, r.text
        return r.json()

    return send_
