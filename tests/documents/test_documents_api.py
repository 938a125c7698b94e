"""Reading and changing documents: filters, sort, keyset pages, counts, visibility, editing rights,
homework, archive, erasure and the read-only Lab history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from integrations.errors import TransientError
from services.core.pagination import encode_cursor
from services.documents.schemas import DocumentRead
from tests.conftest import Tenant, User
from tests.documents.kit import PDF, Docs, actions, api_path, row_counts


@pytest.fixture
async def library(docs: Docs, operator: User, tenant_a: Tenant, tenant_b: Tenant) -> dict[str, str]:
    """A handful of documents over two clients, made through the API: their ids by name."""
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    made = {
        "brief": await docs.upload(
            operator, tenant_a.id, title="Brief initial", document_type="livrable", tags=["phase_1"]
        ),
        "guide": await docs.upload(operator, tenant_a.id, title="Guide branding", tags=["identite_visuelle"]),
        "checklist": await docs.upload(
            operator, tenant_a.id, title="Checklist positionnement", document_type="devoir", homework_due_at=soon
        ),
        "late": await docs.upload(
            operator, tenant_a.id, title="Questionnaire valeurs", document_type="devoir", homework_due_at=past
        ),
        "estimate": await docs.upload(
            operator, tenant_a.id, title="Estimation projet", source="orpheus", visibility="internal"
        ),
        "mine": await docs.upload(tenant_a.member, tenant_a.id, title="Mes idées"),
        "b_late": await docs.upload(
            operator, tenant_b.id, title="Devoir B", document_type="devoir", homework_due_at=past
        ),
    }
    return {k: v["id"] for k, v in made.items()}


def titles(page: dict[str, Any]) -> list[str]:
    return sorted(d["title"] for d in page["items"])


async def test_filters(docs: Docs, library: dict[str, str], operator: User, tenant_a: Tenant) -> None:
    page = await docs.list(operator)
    assert len(page["items"]) == 7 and page["next_cursor"] is None
    for item in page["items"]:  # rendered by Postgres, but exactly the declared model
        assert set(DocumentRead.model_validate(item).model_dump()) == set(item)
    assert titles(await docs.list(operator, document_type="devoir", client_id=str(tenant_a.id))) == [
        "Checklist positionnement",
        "Questionnaire valeurs",
    ]
    assert titles(await docs.list(operator, tag="PHASE_1")) == ["Brief initial"]
    assert titles(await docs.list(operator, source="orpheus")) == ["Estimation projet"]
    assert titles(await docs.list(operator, source="client")) == ["Mes idées"]
    assert titles(await docs.list(operator, homework="overdue")) == ["Devoir B", "Questionnaire valeurs"]
    assert titles(await docs.list(operator, homework="due")) == ["Checklist positionnement"]
    assert titles(await docs.list(operator, q="visuelle")) == ["Guide branding"]  # a tag
    assert titles(await docs.list(operator, q="BRAND")) == ["Guide branding"]
    assert titles(await docs.list(operator, q="100%_")) == []
    assert titles(await docs.list(operator, visibility="internal")) == ["Estimation projet"]


async def test_sort_and_keyset_pages(
    docs: Docs, library: dict[str, str], operator: User, client: httpx.AsyncClient
) -> None:
    seen, cursor = [], None
    while True:
        params = {"sort": "title", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await docs.list(operator, **params)
        seen += [d["title"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, key=str.lower) and len(seen) == 7
    due = await docs.list(operator, sort="homework_due_at", document_type="devoir", limit=2)
    assert [d["title"] for d in due["items"]] == ["Questionnaire valeurs", "Devoir B"] or [
        d["title"] for d in due["items"]
    ] == ["Devoir B", "Questionnaire valeurs"]
    rest = await docs.list(operator, sort="homework_due_at", document_type="devoir", cursor=due["next_cursor"])
    assert [d["title"] for d in rest["items"]] == ["Checklist positionnement"]
    r = await client.get("/api/v1/documents", headers=operator.headers, params={"cursor": "garbage"})
    assert r.status_code == 422 and r.json()["field"] == "cursor"


async def test_counts_for_the_filter_chips(
    client: httpx.AsyncClient, library: dict[str, str], operator: User, tenant_a: Tenant
) -> None:
    r = await client.get(
        "/api/v1/documents/counts",
        headers=operator.headers,
        params={"client_id": str(tenant_a.id), "document_type": "devoir"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "total": 6,
        "by_type": {"livrable": 1, "ressource": 3, "devoir": 2, "archive": 0},
        "homework": {"due": 1, "overdue": 1, "completed": 0},
    }
    r = await client.get("/api/v1/documents/counts", headers=tenant_a.member.headers)
    assert r.json()["total"] == 5  # neither the internal estimate nor client B's homework


async def test_members_never_see_internal_documents(
    docs: Docs, client: httpx.AsyncClient, library: dict[str, str], tenant_a: Tenant
) -> None:
    member = tenant_a.member
    assert "Estimation projet" not in titles(await docs.list(member))
    assert (await docs.get(member, library["estimate"])).status_code == 404
    for suffix in ("/versions", "/download"):
        r = await client.get(f"/api/v1/documents/{library['estimate']}{suffix}", headers=member.headers)
        assert r.status_code == 404
    assert (await docs.get(member, library["brief"])).status_code == 200


async def test_editing_rights(
    client: httpx.AsyncClient,
    docs: Docs,
    sql: asyncpg.Connection,
    library: dict[str, str],
    operator: User,
    tenant_a: Tenant,
) -> None:
    def patch(user: User, key: str, **body: Any) -> Awaitable[httpx.Response]:
        return client.patch(f"/api/v1/documents/{library[key]}", headers=user.headers, json=body)

    member = tenant_a.member
    r = await patch(member, "mine", title="Mes idées v2", tags=["brouillon"], document_type="livrable")
    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["document_type"], r.json()["status"]) == ("Mes idées v2", "livrable", "new")
    for key, body, field in (
        ("brief", {"title": "x"}, "title"),
        ("mine", {"visibility": "internal"}, "visibility"),
        ("mine", {"document_type": "devoir"}, "document_type"),
        ("mine", {"status": "validated"}, "status"),
        ("brief", {"tags": ["a"]}, "tags"),
    ):
        r = await patch(member, key, **body)
        assert r.status_code == 403 and r.json()["field"] == field, (key, body, r.text)

    r = await patch(operator, "brief", status="validated", visibility="internal", tags=["final"])
    assert r.status_code == 200 and (r.json()["status"], r.json()["visibility"]) == ("validated", "internal")
    r = await patch(operator, "checklist", document_type="ressource")
    body = r.json()
    assert (body["is_homework"], body["homework_due_at"], body["status"]) == (False, None, None)
    r = await patch(operator, "guide", status="validated")
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = await patch(operator, "guide", title=None)
    assert r.status_code == 422
    r = await patch(operator, "guide", colour="red")
    assert r.status_code == 422
    assert "document.updated" in await actions(sql, library["brief"])


async def test_homework(
    client: httpx.AsyncClient, docs: Docs, library: dict[str, str], operator: User, tenant_a: Tenant
) -> None:
    member, checklist = tenant_a.member, library["checklist"]

    def act(user: User, doc: str, what: str) -> Awaitable[httpx.Response]:
        return client.post(f"/api/v1/documents/{doc}/homework/{what}", headers=user.headers)

    r = await client.patch(f"/api/v1/documents/{checklist}", headers=operator.headers, json={"status": "validated"})
    assert r.status_code == 409  # not completed yet
    r = await act(member, checklist, "complete")
    assert r.status_code == 200 and r.json()["homework_completed"] and r.json()["homework_completed_at"]
    assert (await act(member, checklist, "complete")).status_code == 409
    r = await act(member, checklist, "reopen")
    assert r.status_code == 200 and not r.json()["homework_completed"] and r.json()["homework_completed_at"] is None
    await act(member, checklist, "complete")
    assert titles(await docs.list(operator, homework="completed")) == ["Checklist positionnement"]
    r = await client.patch(f"/api/v1/documents/{checklist}", headers=operator.headers, json={"status": "validated"})
    assert r.status_code == 200
    r = await act(member, checklist, "reopen")
    assert r.status_code == 409 and r.json()["code"] == "homework_conflict"
    r = await act(operator, checklist, "reopen")
    assert r.status_code == 200 and r.json()["status"] == "new"
    assert (await act(member, library["brief"], "complete")).status_code == 409


async def test_archive_and_restore(
    client: httpx.AsyncClient,
    docs: Docs,
    sql: asyncpg.Connection,
    library: dict[str, str],
    operator: User,
    tenant_a: Tenant,
) -> None:
    member = tenant_a.member
    r = await client.post(f"/api/v1/documents/{library['mine']}/archive", headers=member.headers)
    assert r.status_code == 200 and r.json()["archived_at"]
    assert "Mes idées" not in titles(await docs.list(member))
    assert titles(await docs.list(member, archived="true")) == ["Mes idées"]
    assert (
        await client.post(f"/api/v1/documents/{library['mine']}/archive", headers=member.headers)
    ).status_code == 409
    r = await client.patch(f"/api/v1/documents/{library['mine']}", headers=member.headers, json={"title": "x"})
    assert r.status_code == 409 and r.json()["code"] == "document_archived"
    r = await client.post(f"/api/v1/documents/{library['mine']}/restore", headers=member.headers)
    assert r.status_code == 200 and r.json()["archived_at"] is None
    assert (
        await client.post(f"/api/v1/documents/{library['mine']}/restore", headers=member.headers)
    ).status_code == 409
    r = await client.post(f"/api/v1/documents/{library['brief']}/archive", headers=member.headers)
    assert r.status_code == 403
    assert (
        await client.post(f"/api/v1/documents/{library['brief']}/archive", headers=operator.headers)
    ).status_code == 200
    assert await actions(sql, library["mine"]) == ["document.created", "document.archived", "document.restored"]


async def test_hard_delete_erases_every_version_and_is_audited(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(operator, tenant_a.id)
    await docs.add_version(operator, doc["id"])
    pending = (
        await client.post(
            f"/api/v1/documents/{doc['id']}/uploads",
            headers=operator.headers,
            json={"file_name": "v3.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"},
        )
    ).json()
    await docs.put(pending, PDF)
    link = (await client.get(f"/api/v1/documents/{doc['id']}/download", headers=operator.headers)).json()
    assert len(docs.objects()) == 3

    r = await client.delete(f"/api/v1/documents/{doc['id']}", headers=tenant_a.member.headers)
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/documents/{doc['id']}", headers=operator.headers)
    assert r.status_code == 204
    assert docs.objects() == set() and await row_counts(sql) == (0, 0, 0)
    assert (await client.get(api_path(link["url"]))).status_code == 404
    entry = await sql.fetchrow("select actor_role, before from audit_log where action = 'document.deleted'")
    assert entry["actor_role"] == "operator" and len(json.loads(entry["before"])["versions"]) == 2
    assert (await docs.get(operator, doc["id"])).status_code == 404


async def test_hard_delete_keeps_everything_when_storage_fails(
    app: FastAPI, client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(operator, tenant_a.id)

    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def delete(self, paths: Sequence[str]) -> None:
            raise TransientError("supabase_storage", "HTTP 503 on DELETE /object/foxeo")

    real, app.state.storage = app.state.storage, Failing()
    try:
        r = await client.delete(f"/api/v1/documents/{doc['id']}", headers=operator.headers)
    finally:
        app.state.storage = real
    assert r.status_code == 503
    assert await row_counts(sql) == (1, 1, 0) and len(docs.objects()) == 1


async def test_lab_history_is_read_only_after_graduation(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    member = tenant_a.member
    own = await docs.upload(member, tenant_a.id, title="Mon brainstorming")
    homework = await docs.upload(operator, tenant_a.id, document_type="devoir")
    await sql.execute("update client_configs set dashboard_type = 'one' where client_id = $1", tenant_a.id)

    r = await client.patch(f"/api/v1/documents/{own['id']}", headers=member.headers, json={"title": "x"})
    assert r.status_code == 403 and r.json()["code"] == "document_read_only"
    for path in (f"{own['id']}/archive", f"{homework['id']}/homework/complete"):
        assert (await client.post(f"/api/v1/documents/{path}", headers=member.headers)).status_code == 403
    assert (await docs.add_version(member, own["id"], expect=403)).json()["code"] == "document_read_only"
    assert titles(await docs.list(member, phase="lab")) == ["Mon brainstorming", "brief.pdf"]
    assert (await client.get(f"/api/v1/documents/{own['id']}/download", headers=member.headers)).status_code == 200
    new = await docs.upload(member, tenant_a.id, title="Après graduation")
    assert new["phase"] == "one"
    r = await client.patch(f"/api/v1/documents/{own['id']}", headers=operator.headers, json={"title": "Archivé"})
    assert r.status_code == 200


async def test_archived_clients_take_no_new_documents(
    docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    await sql.execute("update clients set status = 'archived' where id = $1", tenant_a.id)
    r = await docs.upload(operator, tenant_a.id, expect=409)
    assert r.json()["code"] == "client_archived"
    assert docs.objects() == set()


async def test_project_filter_and_link(
    docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    insert = (
        "insert into projects (client_id, name, kind, phase) values ($1, 'Site vitrine', 'delivery', 'lab')"
        " returning id"
    )
    project, other = await sql.fetchval(insert, tenant_a.id), await sql.fetchval(insert, tenant_b.id)
    linked = await docs.upload(operator, tenant_a.id, title="Maquette", project_id=str(project))
    await docs.upload(operator, tenant_a.id, title="Sans projet")
    assert titles(await docs.list(operator, project_id=str(project))) == ["Maquette"]
    assert linked["project_id"] == str(project)
    # A project of another client is refused, and nothing is left behind.
    r = await docs.upload(operator, tenant_a.id, project_id=str(other), expect=422)
    assert r.json()["field"] == "project_id"
    assert await sql.fetchval("select count(*) from documents") == 2 and len(docs.objects()) == 2


async def test_inputs_postgres_cannot_hold_are_refused_not_500(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    """NUL characters, numbers past int4 and dates past year 9999 would reach Postgres as errors."""
    doc = await docs.upload(operator, tenant_a.id)
    headers = operator.headers
    r = await client.get(f"/api/v1/documents/{doc['id']}/download", headers=headers, params={"version": 3_000_000_000})
    assert r.status_code == 404 and r.json()["code"] == "document_version_not_found"
    for params, field in (
        ({"q": "a\x00b"}, "q"),
        ({"tag": "a\x00b"}, "tag"),
        ({"sort": "title", "cursor": encode_cursor("a\x00", str(uuid4()))}, "cursor"),
    ):
        for route in ("/api/v1/documents", "/api/v1/documents/counts"):
            if field == "cursor" and route.endswith("counts"):
                continue
            r = await client.get(route, headers=headers, params=params)
            assert r.status_code == 422 and r.json()["field"] == field, (route, params, r.text)
    r = await client.patch(f"/api/v1/documents/{doc['id']}", headers=headers, json={"title": "a\x00b"})
    assert r.status_code == 422 and "title" in r.text
    r = await docs.upload(operator, tenant_a.id, title="a\x00b", expect=422)
    assert "title" in r.text
    r = await docs.request(operator, tenant_a.id, document={"title": "a\x00b"})
    assert r.status_code == 422 and "title" in r.text
    homework = await docs.upload(operator, tenant_a.id, document_type="devoir")
    for due in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        r = await client.patch(f"/api/v1/documents/{homework['id']}", headers=headers, json={"homework_due_at": due})
        assert r.status_code == 422 and "homework_due_at" in r.text, r.text
        r = await docs.upload(operator, tenant_a.id, document_type="devoir", homework_due_at=due, expect=422)
    assert await row_counts(sql) == (2, 2, 0)
    assert (await client.get(f"/api/v1/documents/{doc['id']}", headers=headers)).json()["title"] == "brief.pdf"


async def test_erasure_locks_in_the_order_confirm_does(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, database_url: str, operator: User, tenant_a: Tenant
) -> None:
    """Confirm locks the pending upload, then its document. Erasure, taking the document first and the
    uploads second, deadlocked against it (a 500 for one of them)."""
    doc = await docs.upload(operator, tenant_a.id)
    ticket = (
        await client.post(
            f"/api/v1/documents/{doc['id']}/uploads",
            headers=operator.headers,
            json={"file_name": "v2.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"},
        )
    ).json()
    confirm = await asyncpg.connect(database_url)  # stands for a confirm between its two locks
    try:
        async with confirm.transaction():
            await confirm.execute("select 1 from document_uploads where id = $1 for update", ticket["upload_id"])
            erase = asyncio.create_task(client.delete(f"/api/v1/documents/{doc['id']}", headers=operator.headers))
            for _ in range(500):
                if await sql.fetchval(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                    " and datname = current_database()"
                ):
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the erasure never waited for the pending upload")
            await confirm.execute("set local lock_timeout = '2s'")
            await confirm.execute("select 1 from documents where id = $1 for update", doc["id"])
        assert (await erase).status_code == 204
    finally:
        await confirm.close()
    assert await row_counts(sql) == (0, 0, 0) and docs.objects() == set()
