"""Every documents route: anonymous → 401, another client's member → 404 (or 403 for operator-only
routes), and nothing of client A is ever readable or writable by client B."""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User, World
from tests.documents.kit import PDF, Docs, api_path, as_member, row_counts

ROUTES = [
    ("GET", "/api/v1/documents"),
    ("GET", "/api/v1/documents/counts"),
    ("POST", "/api/v1/clients/{client}/documents"),
    ("POST", "/api/v1/clients/{client}/documents/uploads"),
    ("POST", "/api/v1/documents/uploads/{upload}/confirm"),
    ("DELETE", "/api/v1/documents/uploads/{upload}"),
    ("GET", "/api/v1/documents/{doc}"),
    ("PATCH", "/api/v1/documents/{doc}"),
    ("DELETE", "/api/v1/documents/{doc}"),
    ("GET", "/api/v1/documents/{doc}/versions"),
    ("POST", "/api/v1/documents/{doc}/versions"),
    ("POST", "/api/v1/documents/{doc}/uploads"),
    ("GET", "/api/v1/documents/{doc}/download"),
    ("POST", "/api/v1/documents/{doc}/homework/complete"),
    ("POST", "/api/v1/documents/{doc}/homework/reopen"),
    ("POST", "/api/v1/documents/{doc}/archive"),
    ("POST", "/api/v1/documents/{doc}/restore"),
]
FILE_DECLARATION = {"file_name": "x.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"}


def request_kwargs(method: str, path: str) -> dict[str, Any]:
    if path.endswith(("/documents", "/versions")) and method == "POST":
        return {"files": {"file": ("x.pdf", PDF, "application/pdf")}}
    if path.endswith("/uploads") and method == "POST":
        return {"json": FILE_DECLARATION}
    if method == "PATCH":
        return {"json": {"title": "intrusion"}}
    return {}


class ASide(TypedDict):
    client: UUID
    doc: str
    own: str
    upload: str


@pytest.fixture
async def a_side(docs: Docs, operator: User, tenant_a: Tenant) -> ASide:
    """Client A's documents (a homework, a pending upload) that client B's member will go after."""
    homework = await docs.upload(operator, tenant_a.id, document_type="devoir")
    own = await docs.upload(tenant_a.member, tenant_a.id)
    ticket = (await docs.request(tenant_a.member, tenant_a.id)).json()
    await docs.put(ticket, PDF)
    return {"client": tenant_a.id, "doc": homework["id"], "own": own["id"], "upload": ticket["upload_id"]}


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_anonymous_is_refused(client: httpx.AsyncClient, method: str, path: str) -> None:
    url = path.format(client=uuid4(), doc=uuid4(), upload=uuid4())
    r = await client.request(method, url, **request_kwargs(method, path))
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{" in r[1]])
async def test_another_clients_member_reaches_nothing(
    client: httpx.AsyncClient,
    sql: asyncpg.Connection,
    docs: Docs,
    a_side: ASide,
    tenant_b: Tenant,
    method: str,
    path: str,
) -> None:
    before = await row_counts(sql), docs.objects()
    for doc in (a_side["doc"], a_side["own"]):
        url = path.format(client=a_side["client"], doc=doc, upload=a_side["upload"])
        r = await client.request(method, url, headers=tenant_b.member.headers, **request_kwargs(method, path))
        expected = 403 if (method, path) == ("DELETE", "/api/v1/documents/{doc}") else 404
        assert r.status_code == expected, (url, r.text)
    assert (await row_counts(sql), docs.objects()) == before


async def test_lists_and_counts_hold_only_my_clients(
    docs: Docs, client: httpx.AsyncClient, a_side: ASide, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    assert (await docs.list(tenant_b.member))["items"] == []
    assert (await docs.list(tenant_b.member, client_id=str(tenant_a.id)))["items"] == []
    r = await client.get("/api/v1/documents/counts", headers=tenant_b.member.headers)
    assert r.json()["total"] == 0
    assert len((await docs.list(tenant_a.member))["items"]) == 2


async def test_a_member_cannot_confirm_or_cancel_someone_elses_upload(
    client: httpx.AsyncClient, docs: Docs, world: World, a_side: ASide, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    colleague = await world.user()
    await sql.execute(
        "insert into client_members (client_id, user_id, email) values ($1, $2, $3)",
        tenant_a.id,
        colleague.id,
        colleague.email,
    )
    r = await docs.confirm(colleague, a_side["upload"])
    assert r.status_code == 404
    r = await client.delete(f"/api/v1/documents/uploads/{a_side['upload']}", headers=colleague.headers)
    assert r.status_code == 404
    assert (await docs.confirm(tenant_a.member, a_side["upload"])).status_code == 201


async def test_operator_sees_and_manages_every_client(
    client: httpx.AsyncClient, docs: Docs, a_side: ASide, operator: User
) -> None:
    assert len((await docs.list(operator))["items"]) == 2
    r = await client.patch(f"/api/v1/documents/{a_side['own']}", headers=operator.headers, json={"tags": ["ok"]})
    assert r.status_code == 200


async def test_a_forged_reservation_cannot_destroy_someone_elses_file(
    client: httpx.AsyncClient, docs: Docs, sql: asyncpg.Connection, database_url: str, operator: User, tenant_a: Tenant
) -> None:
    """A member talking to the table directly (supabase-js) tries to make an upload row name the object of
    the operator's document, then cancels it or has it refused: the operator's file must survive."""
    doc = await docs.upload(operator, tenant_a.id)
    target = await sql.fetchval("select storage_path from document_versions where document_id = $1", doc["id"])
    stored = docs.objects()
    for is_new in (False, True):
        forged = await as_member(
            database_url,
            tenant_a.member,
            "insert into document_uploads (client_id, document_id, is_new_document, version, storage_path,"
            " file_name, size_bytes, mime_type, document, created_by, expires_at) values ($1, $2, $3, 1, $4,"
            " 'x.pdf', 1, 'application/pdf', case when $3 then '{}'::jsonb end, $5, now() + interval '1 hour')"
            " returning id",
            tenant_a.id,
            doc["id"],
            is_new,
            target,
            tenant_a.member.id,
        )
        if not isinstance(forged, Exception):
            await docs.confirm(tenant_a.member, forged)  # refused (1 byte declared): deletes what the row names
            # unchecked: cancelled or refused, either way what is stored must not change (asserted below)
            await client.delete(f"/api/v1/documents/uploads/{forged}", headers=tenant_a.member.headers)
    assert docs.objects() == stored
    link = (await client.get(f"/api/v1/documents/{doc['id']}/download", headers=tenant_a.member.headers)).json()
    assert (await client.get(api_path(link["url"]))).content == PDF
