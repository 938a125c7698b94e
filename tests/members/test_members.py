"""Members: invitation (embedded, and Supabase Auth through the members.invite job), listing, removal
that revokes access at once."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
import respx
from fastapi import FastAPI

from services.core.settings import Settings
from tests.conftest import Tenant, User
from tests.factories import create_user


async def test_embedded_invite_creates_the_user_and_a_working_dev_token(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.post(
        f"/api/v1/clients/{tenant_a.id}/members",
        headers=operator.headers,
        json={"email": "New.Person@Example.com", "role": "owner"},
    )
    assert r.status_code == 201, r.text
    invited = r.json()
    assert invited["invitation"] == "embedded" and invited["email"] == "new.person@example.com"
    assert await sql.fetchval("select count(*) from auth.users where email = 'new.person@example.com'") == 1
    me = await client.get(f"/api/v1/clients/{tenant_a.id}", headers={"Authorization": f"Bearer {invited['dev_token']}"})
    assert me.status_code == 200
    dup = await client.post(
        f"/api/v1/clients/{tenant_a.id}/members", headers=operator.headers, json={"email": "new.person@example.com"}
    )
    assert dup.status_code == 409 and dup.json()["code"] == "member_exists"
    assert await sql.fetchval("select action from audit_log order by id desc limit 1") == "member.invited"


async def test_list_members_by_operator_and_by_a_member_of_that_client_only(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    r = await client.get(f"/api/v1/clients/{tenant_a.id}/members", headers=tenant_a.member.headers)
    assert r.status_code == 200 and [m["user_id"] for m in r.json()] == [str(tenant_a.member.id)]
    assert (await client.get(f"/api/v1/clients/{tenant_a.id}/members", headers=operator.headers)).status_code == 200
    other = await client.get(f"/api/v1/clients/{tenant_b.id}/members", headers=tenant_a.member.headers)
    assert other.status_code == 404


async def test_removing_a_member_revokes_access_on_the_next_request(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    member = tenant_a.member
    assert (await client.get(f"/api/v1/clients/{tenant_a.id}", headers=member.headers)).status_code == 200
    r = await client.delete(f"/api/v1/clients/{tenant_a.id}/members/{member.id}", headers=operator.headers)
    assert r.status_code == 204
    assert (await client.get(f"/api/v1/clients/{tenant_a.id}", headers=member.headers)).status_code == 404
    again = await client.delete(f"/api/v1/clients/{tenant_a.id}/members/{member.id}", headers=operator.headers)
    assert again.status_code == 404


async def test_members_cannot_invite_or_remove(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.post(
        f"/api/v1/clients/{tenant_a.id}/members", headers=tenant_a.member.headers, json={"email": "friend@example.com"}
    )
    assert r.status_code == 403
    r = await client.delete(
        f"/api/v1/clients/{tenant_b.id}/members/{tenant_b.member.id}", headers=tenant_a.member.headers
    )
    assert r.status_code == 403
    assert await sql.fetchval("select count(*) from client_members") == 2


async def test_invite_into_unknown_client_is_404_and_bad_email_422(client: httpx.AsyncClient, operator: User) -> None:
    r = await client.post(
        f"/api/v1/clients/{uuid.uuid4()}/members", headers=operator.headers, json={"email": "x@example.com"}
    )
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/clients/{uuid.uuid4()}/members", headers=operator.headers, json={"email": "not-an-email"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"


@pytest.fixture
def supabase_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "supabase_url": "https://ref.supabase.co",
            "supabase_secret_key": type(settings.supabase_jwt_secret)("sb_secret_abc123"),  # type: ignore[misc]
        }
    )


async def _run_jobs(app: FastAPI) -> None:
    from services.core.jobs import registered_handlers
    from services.core.worker import Worker

    await Worker(app.state.job_context, registered_handlers()).run_pending()


async def test_supabase_invite_goes_through_the_admin_api(
    supabase_settings: Settings, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    from api.app import create_app

    invited_id = uuid.uuid4()
    app = create_app(supabase_settings)
    with respx.mock(assert_all_called=True) as mock:
        invite = mock.post("https://ref.supabase.co/auth/v1/invite").respond(
            200,
            json={
                "id": str(invited_id),
                "aud": "authenticated",
                "role": "authenticated",
                "email": "guest@example.com",
                "invited_at": "2026-11-25T10:00:00Z",
                "app_metadata": {"provider": "email"},
                "user_metadata": {},
                "created_at": "2026-11-25T10:00:00Z",
            },
        )
        async with app.router.lifespan_context(app):
            # Supabase Auth creates the user row during the invite; stand it in under another e-mail
            # so the directory's "already a user?" lookup still goes to the invite API.
            await create_user(sql, email="pending@example.com", user_id=invited_id)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                r = await http.post(
                    f"/api/v1/clients/{tenant_a.id}/members",
                    headers=operator.headers,
                    json={"email": "guest@example.com"},
                )
            # The request only queued the invitation: Supabase is called by the job, after the commit.
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["invitation"] == "supabase_email" and body["dev_token"] is None
            assert body["status"] == "pending" and body["user_id"] is None
            assert not invite.called
            job = await sql.fetchrow("select id, kind, status, client_id from jobs")
            assert (job["id"], job["kind"], job["status"], job["client_id"]) == (
                uuid.UUID(body["job_id"]),
                "members.invite",
                "queued",
                tenant_a.id,
            )
            await _run_jobs(app)
        request = invite.calls.last.request
        assert request.headers["apikey"] == "sb_secret_abc123"
        assert "authorization" not in request.headers  # new secret keys are not JWTs
        assert b'"email":"guest@example.com"' in request.content
    assert await sql.fetchval("select status from jobs") == "done"
    member = await sql.fetchrow("select user_id, invited_by from client_members where email = 'guest@example.com'")
    assert (member["user_id"], member["invited_by"]) == (invited_id, operator.id)
    actions = [r[0] for r in await sql.fetch("select action from audit_log order by id")]
    assert actions[-2:] == ["member.invited", "member.added"]


async def test_supabase_invite_refusal_makes_the_job_dead_with_the_reason(
    supabase_settings: Settings, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    """Was: a 502 from the request. The refusal now arrives in the job, which goes dead at once
    (retrying cannot help) with GoTrue's message as its last error; no membership is created."""
    from api.app import create_app

    app = create_app(supabase_settings)
    with respx.mock(assert_all_called=True) as mock:
        mock.post("https://ref.supabase.co/auth/v1/invite").respond(
            422, json={"code": 422, "error_code": "email_address_invalid", "msg": "Email address is invalid"}
        )
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                r = await http.post(
                    f"/api/v1/clients/{tenant_a.id}/members",
                    headers=operator.headers,
                    json={"email": "guest@example.com"},
                )
            assert r.status_code == 201 and r.json()["status"] == "pending"
            await _run_jobs(app)
    job = await sql.fetchrow("select status, attempts, last_error from jobs")
    assert (job["status"], job["attempts"]) == ("dead", 1)
    assert "Email address is invalid" in job["last_error"]
    assert await sql.fetchval("select count(*) from client_members") == 1


async def test_supabase_without_a_secret_key_refuses_the_invite_with_a_503(
    supabase_settings: Settings, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    from api.app import create_app

    app = create_app(supabase_settings.model_copy(update={"supabase_secret_key": None}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            r = await http.post(
                f"/api/v1/clients/{tenant_a.id}/members", headers=operator.headers, json={"email": "guest@example.com"}
            )
    assert r.status_code == 503 and r.json()["setting"] == "SUPABASE_SECRET_KEY"
    assert await sql.fetchval("select count(*) from jobs") == 0
