"""The sweeper removes uploads nobody confirmed in time, and what they had uploaded."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from services.core.jobs import registered_jobs
from services.documents.uploads import sweep_expired_uploads
from tests.conftest import Tenant, User
from tests.documents.kit import PDF, Docs, row_counts


async def test_expired_uploads_are_swept(
    app: FastAPI, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    stale = (await docs.request(tenant_a.member, tenant_a.id, name="stale.pdf")).json()
    await docs.put(stale, PDF)
    fresh = (await docs.request(operator, tenant_a.id, name="fresh.pdf")).json()
    await sql.execute(
        "update document_uploads set expires_at = now() - interval '1 hour' where id = $1", stale["upload_id"]
    )

    async with app.state.db.service_session() as session:
        assert await sweep_expired_uploads(session, app.state.storage) == 1
    assert await row_counts(sql) == (0, 0, 1)
    assert docs.objects() == set()
    assert await sql.fetchval("select count(*) from document_uploads where id = $1", fresh["upload_id"]) == 1
    entry = await sql.fetchrow(
        "select action, actor_role, client_id from audit_log where entity_id = $1 order by id desc limit 1",
        str(stale["upload_id"]),
    )
    assert dict(entry) == {"action": "document.upload_expired", "actor_role": "system", "client_id": tenant_a.id}

    async with app.state.db.service_session() as session:
        assert await sweep_expired_uploads(session, app.state.storage) == 0


def test_the_sweeper_is_registered() -> None:
    assert "documents.sweep_expired_uploads" in {job.name for job in registered_jobs()}
