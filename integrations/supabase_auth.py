"""Supabase Auth: the project's JWKS and the admin invite API (httpx, server key)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict

from integrations._http import RetryPolicy, VendorHTTP
from integrations.errors import NotConfiguredError

VENDOR = "supabase_auth"


class AuthUser(BaseModel):
    """The subset of GoTrue's user object we rely on; the rest is kept but not typed."""

    model_config = ConfigDict(extra="allow")

    id: UUID
    email: str | None = None
    invited_at: str | None = None


def server_key_headers(secret_key: str) -> dict[str, str]:
    """New `sb_secret_…` keys go in `apikey` only; a legacy service_role JWT also as a Bearer."""
    headers = {"apikey": secret_key}
    if not secret_key.startswith("sb_"):
        headers["Authorization"] = f"Bearer {secret_key}"
    return headers


class SupabaseAuthClient:
    def __init__(
        self,
        supabase_url: str,
        secret_key: str | None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._secret_key = secret_key
        self._http = VendorHTTP(
            VENDOR,
            supabase_url.rstrip("/") + "/auth/v1",
            headers=server_key_headers(secret_key) if secret_key else {},
            timeout=httpx.Timeout(timeout, connect=5.0),
            retry=RetryPolicy(max_attempts=3),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_jwks(self) -> dict[str, Any]:
        """The public signing keys (no credential needed)."""
        document = await self._http.json("GET", "/.well-known/jwks.json")
        return document if isinstance(document, dict) else {"keys": []}

    async def invite_user_by_email(
        self, email: str, *, data: dict[str, Any] | None = None, redirect_to: str | None = None
    ) -> AuthUser:
        """Create the user and send Supabase's invitation e-mail."""
        if not self._secret_key:
            raise NotConfiguredError(VENDOR, "SUPABASE_SECRET_KEY")
        params = {"redirect_to": redirect_to} if redirect_to else None
        body = await self._http.json("POST", "/invite", json={"email": email, "data": data or {}}, params=params)
        return AuthUser.model_validate(body)
