"""Supabase Auth admin client over the SDK: server-key headers, JWKS, invitations (respx at the HTTP layer,
GoTrue's own response shapes)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from integrations.errors import IntegrationError, NotConfiguredError, RequestError, TransientError
from integrations.supabase_auth import SupabaseAuthClient

URL = "https://ref.supabase.co"
LEGACY_SERVICE_ROLE = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig"


def invited_user(user_id: uuid.UUID, email: str, data: dict[str, str]) -> dict[str, object]:
    """What `POST /auth/v1/invite` answers: GoTrue's user object (models.User), freshly invited."""
    return {
        "id": str(user_id),
        "aud": "authenticated",
        "role": "authenticated",
        "email": email,
        "phone": "",
        "invited_at": "2026-11-25T10:00:00Z",
        "confirmation_sent_at": "2026-11-25T10:00:00Z",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": data,
        "identities": [
            {
                "identity_id": str(uuid.uuid4()),
                "id": str(user_id),
                "user_id": str(user_id),
                "identity_data": {
                    "email": email,
                    "email_verified": False,
                    "phone_verified": False,
                    "sub": str(user_id),
                },
                "provider": "email",
                "last_sign_in_at": "2026-11-25T10:00:00Z",
                "created_at": "2026-11-25T10:00:00Z",
                "updated_at": "2026-11-25T10:00:00Z",
                "email": email,
            }
        ],
        "created_at": "2026-11-25T10:00:00Z",
        "updated_at": "2026-11-25T10:00:00Z",
        "is_anonymous": False,
    }


async def test_invite_with_a_legacy_service_role_key_sends_it_as_bearer_too() -> None:
    user_id = uuid.uuid4()
    client = SupabaseAuthClient(URL + "/", LEGACY_SERVICE_ROLE)
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{URL}/auth/v1/invite").respond(
            200, json=invited_user(user_id, "guest@example.com", {"client": "c-1"})
        )
        user = await client.invite_user_by_email(
            "guest@example.com", data={"client": "c-1"}, redirect_to="https://app.foxeo.test/welcome"
        )
    await client.aclose()
    request = route.calls.last.request
    assert request.headers["apikey"] == LEGACY_SERVICE_ROLE
    assert request.headers["authorization"] == f"Bearer {LEGACY_SERVICE_ROLE}"
    assert request.url.params["redirect_to"] == "https://app.foxeo.test/welcome"
    assert json.loads(request.content) == {"email": "guest@example.com", "data": {"client": "c-1"}}
    assert (user.id, user.email) == (user_id, "guest@example.com")
    assert user.invited_at == "2026-11-25T10:00:00Z"


async def test_invite_with_a_secret_key_sends_it_in_apikey_only() -> None:
    client = SupabaseAuthClient(URL, "sb_secret_abc")
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{URL}/auth/v1/invite").respond(
            200, json=invited_user(uuid.uuid4(), "guest@example.com", {})
        )
        await client.invite_user_by_email("guest@example.com")
    await client.aclose()
    request = route.calls.last.request
    assert request.headers["apikey"] == "sb_secret_abc"
    assert "authorization" not in request.headers
    assert "redirect_to" not in request.url.params
    assert json.loads(request.content) == {"email": "guest@example.com", "data": {}}


async def test_invite_is_not_resent_after_an_ambiguous_failure_but_is_after_a_refused_connection() -> None:
    client = SupabaseAuthClient(URL, "sb_secret_abc")
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{URL}/auth/v1/invite")
        route.side_effect = [httpx.Response(503)]
        with pytest.raises(TransientError) as caught:
            await client.invite_user_by_email("guest@example.com")
        assert caught.value.status_code == 503 and route.call_count == 1
        answer = httpx.Response(200, json=invited_user(uuid.uuid4(), "guest@example.com", {}))
        route.side_effect = [httpx.ConnectError("refused"), answer]
        await client.invite_user_by_email("guest@example.com")
        assert route.call_count == 3
    await client.aclose()


async def test_an_unreadable_invite_answer_is_an_error_not_a_user() -> None:
    client = SupabaseAuthClient(URL, "sb_secret_abc")
    async with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{URL}/auth/v1/invite").respond(200, json={"id": "not a user"})
        with pytest.raises(IntegrationError) as caught:
            await client.invite_user_by_email("guest@example.com")
    await client.aclose()
    assert not isinstance(caught.value, TransientError | RequestError)


async def test_invite_refusal_is_a_request_error_with_gotrue_msg() -> None:
    client = SupabaseAuthClient(URL, "sb_secret_abc")
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{URL}/auth/v1/invite").respond(
            422, json={"code": 422, "error_code": "email_exists", "msg": "A user with this email already exists"}
        )
        with pytest.raises(RequestError) as caught:
            await client.invite_user_by_email("guest@example.com")
    await client.aclose()
    assert caught.value.vendor_message == "A user with this email already exists"
    assert route.call_count == 1


async def test_invite_without_a_secret_key_is_not_configured() -> None:
    client = SupabaseAuthClient(URL, None)
    async with respx.mock(assert_all_called=False) as mock:
        with pytest.raises(NotConfiguredError) as caught:
            await client.invite_user_by_email("guest@example.com")
    await client.aclose()
    assert caught.value.setting == "SUPABASE_SECRET_KEY"
    assert not mock.calls


async def test_jwks_needs_no_key_and_tolerates_an_odd_body() -> None:
    keys = {"keys": [{"kty": "EC", "kid": "k1", "crv": "P-256", "x": "x", "y": "y", "alg": "ES256"}]}
    client = SupabaseAuthClient(URL, None)
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{URL}/auth/v1/.well-known/jwks.json")
        route.side_effect = [httpx.Response(200, json=keys), httpx.Response(200, json=[])]
        assert await client.fetch_jwks() == keys
        assert await client.fetch_jwks() == {"keys": []}
    await client.aclose()
    assert "apikey" not in route.calls[0].request.headers
