"""Supabase Auth: the admin invite API through the `supabase` SDK's async client (`auth.admin`), and
the project's JWKS.

The JWKS stays a direct httpx call on the same client: it is public (no key, so it works when only
SUPABASE_URL is set, and the SDK refuses to exist without a key), and the SDK only fetches it inside
`get_claims()` with a cache of its own, while our `JwksCache` owns caching and key rotation.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict
from supabase_auth.types import InviteUserByEmailOptions

from integrations._http import RetryPolicy, VendorHTTP
from integrations._supabase import SdkCalls, sdk_client
from integrations.errors import NotConfiguredError

VENDOR = "supabase_auth"


class AuthUser(BaseModel):
    """The subset of GoTrue's user object we rely on; the rest is kept but not typed."""

    model_config = ConfigDict(extra="allow")

    id: UUID
    email: str | None = None
    invited_at: str | None = None


class SupabaseAuthClient:
    def __init__(
        self,
        supabase_url: str,
        secret_key: str | None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        retry = RetryPolicy(max_attempts=3)
        # No key headers on the client itself: the JWKS is fetched without one; the SDK adds its own.
        self._http = VendorHTTP(
            VENDOR,
            supabase_url.rstrip("/") + "/auth/v1",
            timeout=httpx.Timeout(timeout, connect=5.0),
            retry=retry,
            transport=transport,
        )
        self._sdk = sdk_client(supabase_url, secret_key, self._http.client) if secret_key else None
        self._call = SdkCalls(VENDOR, retry=retry)

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
        if self._sdk is None:
            raise NotConfiguredError(VENDOR, "SUPABASE_SECRET_KEY")
        admin = self._sdk.auth.admin
        options = InviteUserByEmailOptions(data=data or {})
        if redirect_to:
            options["redirect_to"] = redirect_to
        # Not idempotent (a second invite re-sends the e-mail): retried only when provably not processed.
        answer = await self._call("POST /invite", lambda: admin.invite_user_by_email(email, options), idempotent=False)
        return AuthUser.model_validate(answer.user.model_dump(mode="json"))
