"""The worker where it runs for real: inside `foxeo serve` (FOXEO_RUN_SCHEDULER on) and as `foxeo worker`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import respx

from services.core.settings import Settings
from tests.conftest import Tenant, User


async def _wait_for(sql: asyncpg.Connection, query: str, expected: object, seconds: float = 20) -> object:
    value = None
    for _ in range(int(seconds / 0.05)):
        value = await sql.fetchval(query)
        if value == expected:
            break
        await asyncio.sleep(0.05)
    return value


async def test_serve_runs_the_queue_in_process(
    settings: Settings, operator: User, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    from api.app import create_app

    serving = settings.model_copy(
        update={
            "run_scheduler": True,
            "jobs_poll_interval_ms": 60_000,  # so only the NOTIFY at commit can start the job quickly
            "supabase_url": "https://ref.supabase.co",
            "supabase_secret_key": type(settings.supabase_jwt_secret)("sb_secret_abc123"),  # type: ignore[misc]
        }
    )
    user_id = uuid.uuid4()
    await sql.execute("insert into auth.users (id, email) values ($1, 'stand-in@example.com')", user_id)
    app = create_app(serving)
    with respx.mock(assert_all_called=True) as mock:
        invited = {
            "id": str(user_id), "aud": "authenticated", "role": "authenticated", "email": "g@x.io",
            "app_metadata": {"provider": "email"}, "user_metadata": {}, "created_at": "2026-11-25T10:00:00Z",
        }  # fmt: skip  # GoTrue's user object: the supabase SDK requires its fields
        mock.post("https://ref.supabase.co/auth/v1/invite").respond(200, json=invited)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                r = await http.post(
                    f"/api/v1/clients/{tenant_a.id}/members", headers=operator.headers, json={"email": "g@x.io"}
                )
            assert r.status_code == 201 and r.json()["status"] == "pending"
            assert await _wait_for(sql, "select status from jobs", "done") == "done"
    assert await sql.fetchval("select count(*) from client_members where user_id = $1", user_id) == 1


async def test_foxeo_worker_claims_jobs_and_stops_on_sigterm(
    database_url: str, tmp_path: Path, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": "w" * 40,
        "FOXEO_DATA_DIR": str(tmp_path),
        "FOXEO_JOBS_POLL_INTERVAL_MS": "100",
    }
    env.pop("SUPABASE_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "worker", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        # A worker without Supabase settings cannot send invitations: the job fails (and will retry),
        # which shows this process claimed and ran it.
        await sql.execute(
            "select private.enqueue_job($1, $2::jsonb, null, null, $3, null)",
            "members.invite",
            json.dumps({"client_id": str(tenant_a.id), "email": "a@b.io", "role": "member", "invited_by": None}),
            tenant_a.id,
        )
        assert await _wait_for(sql, "select status from jobs", "failed") == "failed"
        assert "SupabaseDirectory is not configured" in await sql.fetchval("select last_error from jobs")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
