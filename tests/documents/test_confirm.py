"""Confirming a signed upload: the checks and the object read take no lock; the row work (lock the
pending upload, then its document, record the version, audit) is one SQL call."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User
from tests.documents.kit import PDF, Docs, row_counts


async def _version_ticket(client: httpx.AsyncClient, user: User, document_id: str, data: bytes) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/documents/{document_id}/uploads",
        headers=user.headers,
        json={"file_name": "v2.pdf", "size_bytes": len(data), "mime_type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    ticket: dict[str, Any] = r.json()
    return ticket


async def test_confirm_waits_for_locks_only_inside_its_one_statement(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, database_url: str, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(operator, tenant_a.id)
    ticket = await _version_ticket(client, operator, doc["id"], PDF + b"v2")
    assert (await docs.put(ticket, PDF + b"v2")).status_code == 200
    other = await asyncpg.connect(database_url)  # e.g. an edit of the document in flight
    try:
        async with other.transaction():
            await other.execute("select 1 from documents where id = $1 for update", doc["id"])
            confirm = asyncio.create_task(docs.confirm(operator, ticket["upload_id"]))
            for _ in range(500):
                waiting = await sql.fetch(
                    "select query from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()"
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the confirm never waited for the document")
            # Rights and the object were checked before: only the one call waits.
            assert [r["query"] for r in waiting] == [
                "select private.confirm_document_upload($1, $2, $3, $4::text::jsonb, $5)::text"
            ]
        r = await confirm
    finally:
        await other.close()
    assert r.status_code == 201, r.text
    assert r.json()["current_version"]["version"] == 2 and await row_counts(sql) == (1, 2, 0)


async def test_the_audit_of_a_confirm_holds_the_document_as_answered(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(operator, tenant_a.id)
    ticket = await _version_ticket(client, operator, doc["id"], PDF + b"v2")
    await docs.put(ticket, PDF + b"v2")
    after = (await docs.confirm(operator, ticket["upload_id"])).json()
    entry = await sql.fetchrow(
        "select actor_role, before, after from audit_log where action = 'document.version_added' and entity_id = $1",
        doc["id"],
    )
    assert entry["actor_role"] == "operator"
    assert json.loads(entry["before"]) == doc and json.loads(entry["after"]) == after
    assert after["current_version"]["uploaded_by"] == str(operator.id)

    new = (await docs.request(tenant_a.member, tenant_a.id, document={"tags": ["idea"]})).json()
    await docs.put(new, PDF)
    created = (await docs.confirm(tenant_a.member, new["upload_id"])).json()
    entry = await sql.fetchrow(
        "select actor_role, before, after from audit_log where action = 'document.created' and entity_id = $1",
        new["document_id"],
    )
    assert entry["actor_role"] == "member" and entry["before"] is None
    assert json.loads(entry["after"]) == created and created["source"] == "client" and created["tags"] == ["idea"]
