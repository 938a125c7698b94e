"""Getting files in: multipart uploads, the signed-URL flow (request → PUT → confirm), versions,
downloads, and every refusal leaving no document, version or object behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User
from tests.documents.kit import MAX, PDF, PNG, Docs, actions, api_path, row_counts, sha


async def test_operator_uploads_a_document(
    docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(
        operator, tenant_a.id, name="Brief initial.pdf", tags=["phase_1", "Identité"], document_type="livrable"
    )
    assert doc["client_id"] == str(tenant_a.id) and doc["title"] == "Brief initial.pdf"
    assert (doc["source"], doc["visibility"], doc["phase"], doc["status"]) == ("operator", "shared", "lab", "new")
    assert doc["tags"] == ["phase_1", "identité"] and doc["is_homework"] is False
    version = doc["current_version"]
    assert version["version"] == 1 and version["file_name"] == "Brief initial.pdf"
    assert (version["size_bytes"], version["mime_type"], version["sha256"]) == (len(PDF), "application/pdf", sha(PDF))
    assert docs.objects() == {f"clients/{tenant_a.id}/documents/{doc['id']}/v1/Brief_initial.pdf"}
    assert await actions(sql, doc["id"]) == ["document.created"]


async def test_member_uploads_into_their_own_space(
    docs: Docs, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    doc = await docs.upload(tenant_a.member, tenant_a.id, name="notes.txt", data=b"mes notes\n", mime="text/plain")
    assert (doc["source"], doc["visibility"], doc["phase"]) == ("client", "shared", "lab")
    one = await docs.upload(tenant_b.member, tenant_b.id, data=PDF)
    assert one["phase"] == "one"
    for field, value in (("visibility", "internal"), ("document_type", "devoir"), ("source", "orpheus")):
        refused: dict[str, Any] = {field: value}
        r = await docs.upload(tenant_a.member, tenant_a.id, expect=403, **refused)
        assert r.json()["field"] == field


async def test_operator_records_who_produced_a_document(docs: Docs, operator: User, tenant_a: Tenant) -> None:
    doc = await docs.upload(operator, tenant_a.id, source="orpheus", visibility="internal", title="Estimation")
    assert (doc["source"], doc["visibility"], doc["title"]) == ("orpheus", "internal", "Estimation")


@pytest.mark.parametrize(
    ("name", "data", "mime", "status"),
    [
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 422),  # not allowed
        ("logo.pdf", PNG, "application/pdf", 422),  # magic bytes say PNG
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "application/pdf", 422),  # an executable
        ("notes.txt", b"\x00\x01\x02binary" * 20, "text/plain", 422),  # not text
        ("scan.png", b"%PDF-1.4 not a png", "image/png", 422),
        ("empty.pdf", b"", "application/pdf", 422),
        ("big.pdf", b"%PDF-" + b"0" * (64 * 1024), "application/pdf", 413),  # over the direct-upload limit
    ],
)
async def test_refused_files_leave_nothing_behind(
    docs: Docs,
    sql: asyncpg.Connection,
    operator: User,
    tenant_a: Tenant,
    name: str,
    data: bytes,
    mime: str,
    status: int,
) -> None:
    r = await docs.upload(operator, tenant_a.id, name=name, data=data, mime=mime, expect=status)
    problem = r.json()
    assert problem["field"] == "file" and problem["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(sql) == (0, 0, 0)
    assert docs.objects() == set()


async def test_file_names_are_sanitised(docs: Docs, operator: User, tenant_a: Tenant) -> None:
    doc = await docs.upload(operator, tenant_a.id, name="..\\..\\etc/pass\u202ewd.pdf")
    assert doc["current_version"]["file_name"] == "passwd.pdf"
    ticket = (await docs.request(operator, tenant_a.id, name="../notes\x07\r\n\u200b finales .pdf")).json()
    assert ticket["file_name"] == "notes finales .pdf"
    doc = await docs.upload(operator, tenant_a.id, name="Épreuve finale (2).PDF")
    assert doc["current_version"]["file_name"] == "Épreuve finale (2).PDF"
    assert f"{doc['id']}/v1/Epreuve_finale_2.pdf" in "\n".join(docs.objects())
    r = await docs.upload(operator, tenant_a.id, name="..", expect=422)
    assert r.json()["field"] == "file"


async def test_signed_upload_flow(docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant) -> None:
    r = await docs.request(
        operator,
        tenant_a.id,
        name="Guide branding.pdf",
        sha256=sha(PDF),
        document={"document_type": "ressource", "tags": ["branding"]},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["version"] == 1 and ticket["upload"]["method"] == "PUT"
    assert ticket["upload"]["headers"] == {"Content-Type": "application/pdf"}
    assert await row_counts(sql) == (0, 0, 1)  # nothing but the reservation until confirmed

    assert (await docs.put(ticket, PDF)).status_code == 200
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["id"] == ticket["document_id"] and doc["title"] == "Guide branding.pdf"
    assert doc["tags"] == ["branding"] and doc["current_version"]["sha256"] == sha(PDF)
    assert await row_counts(sql) == (1, 1, 0)
    assert (await docs.confirm(operator, ticket["upload_id"])).status_code == 404
    assert await actions(sql, ticket["upload_id"]) == ["document.upload_requested"]
    assert await actions(sql, doc["id"]) == ["document.created"]


async def test_confirm_before_the_bytes_arrive(docs: Docs, operator: User, tenant_a: Tenant) -> None:
    ticket = (await docs.request(operator, tenant_a.id)).json()
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 409 and r.json()["code"] == "upload_not_received"


@pytest.mark.parametrize(
    ("declared", "sent", "content_type", "extra", "field"),
    [
        (PDF, PNG + b"\x00" * (len(PDF) - len(PNG)), None, {}, "mime_type"),  # magic bytes disagree
        (PDF, PDF[:-10], None, {}, "size_bytes"),  # fewer bytes than declared
        (PDF, PDF, "image/png", {}, "mime_type"),  # sent with another type
        (PDF, PDF, None, {"sha256": "0" * 64}, "sha256"),  # not the declared checksum
    ],
)
async def test_confirm_refuses_and_deletes_what_does_not_match(
    docs: Docs,
    sql: asyncpg.Connection,
    operator: User,
    tenant_a: Tenant,
    declared: bytes,
    sent: bytes,
    content_type: str | None,
    extra: dict[str, Any],
    field: str,
) -> None:
    ticket = (await docs.request(operator, tenant_a.id, data=declared, **extra)).json()
    assert (await docs.put(ticket, sent, content_type)).status_code == 200
    assert docs.objects()
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert docs.objects() == set()
    documents, versions, _ = await row_counts(sql)
    assert (documents, versions) == (0, 0)


async def test_upload_requests_are_checked_before_any_url_is_issued(
    docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    r = await docs.request(operator, tenant_a.id, size=MAX + 1)
    assert r.status_code == 413 and r.json()["code"] == "file_too_large" and r.json()["field"] == "size_bytes"
    r = await docs.request(operator, tenant_a.id, mime="application/x-msdownload")
    assert r.status_code == 422 and r.json()["field"] == "mime_type"
    r = await docs.request(operator, tenant_a.id, mime="not a type")
    assert r.status_code == 422
    r = await docs.request(
        operator, tenant_a.id, document={"document_type": "ressource", "homework_due_at": "2030-01-01T00:00:00Z"}
    )
    assert r.status_code == 422 and r.json()["field"] == "homework_due_at"
    assert await row_counts(sql) == (0, 0, 0)


async def test_the_upload_url_refuses_more_than_declared(docs: Docs, operator: User, tenant_a: Tenant) -> None:
    ticket = (await docs.request(operator, tenant_a.id, size=100)).json()
    r = await docs.put(ticket, PDF)
    assert r.status_code == 413
    assert docs.objects() == set()


async def test_versions_and_downloads(
    docs: Docs, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    doc = await docs.upload(operator, tenant_a.id)
    second = await docs.add_version(operator, doc["id"], data=PDF + b"second")
    assert second["current_version"]["version"] == 2
    third_ticket = (
        await client.post(
            f"/api/v1/documents/{doc['id']}/uploads",
            headers=operator.headers,
            json={"file_name": "brief v3.pdf", "size_bytes": len(PDF) + 5, "mime_type": "application/pdf"},
        )
    ).json()
    assert third_ticket["version"] == 3 and third_ticket["document_id"] == doc["id"]
    assert (await docs.put(third_ticket, PDF + b"third")).status_code == 200
    third = (await docs.confirm(operator, third_ticket["upload_id"])).json()
    assert third["current_version"]["version"] == 3 and third["current_version"]["file_name"] == "brief v3.pdf"

    r = await client.get(f"/api/v1/documents/{doc['id']}/versions", headers=tenant_a.member.headers)
    assert [v["version"] for v in r.json()] == [3, 2, 1]
    for version, content in ((1, PDF), (2, PDF + b"second"), (None, PDF + b"third")):
        params = {"version": version} if version else {}
        link = await client.get(
            f"/api/v1/documents/{doc['id']}/download", headers=tenant_a.member.headers, params=params
        )
        assert link.status_code == 200, link.text
        body = link.json()
        assert body["version"] == (version or 3) and body["expires_at"]
        fetched = await client.get(api_path(body["url"]))
        assert fetched.status_code == 200 and fetched.content == content
    r = await client.get(f"/api/v1/documents/{doc['id']}/download", headers=operator.headers, params={"version": 9})
    assert r.status_code == 404
    assert await actions(sql, doc["id"]) == ["document.created", "document.version_added", "document.version_added"]


async def test_who_may_add_versions(docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant) -> None:
    resource = await docs.upload(operator, tenant_a.id)
    homework = await docs.upload(operator, tenant_a.id, document_type="devoir")
    own = await docs.upload(tenant_a.member, tenant_a.id)
    r = await docs.add_version(tenant_a.member, resource["id"], expect=403)
    assert r.json()["code"] == "document_forbidden"
    assert (await docs.add_version(tenant_a.member, homework["id"]))["current_version"]["version"] == 2
    assert (await docs.add_version(tenant_a.member, own["id"]))["current_version"]["uploaded_by"] == str(
        tenant_a.member.id
    )


async def test_cancel_and_expiry_of_pending_uploads(
    docs: Docs, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    ticket = (await docs.request(tenant_a.member, tenant_a.id)).json()
    await docs.put(ticket, PDF)
    r = await client.delete(f"/api/v1/documents/uploads/{ticket['upload_id']}", headers=tenant_a.member.headers)
    assert r.status_code == 204
    assert docs.objects() == set() and await row_counts(sql) == (0, 0, 0)

    ticket = (await docs.request(tenant_a.member, tenant_a.id)).json()
    await docs.put(ticket, PDF)
    await sql.execute("update document_uploads set expires_at = now() - interval '2 hours'")
    r = await docs.confirm(tenant_a.member, ticket["upload_id"])
    assert r.status_code == 409 and r.json()["code"] == "upload_expired"


async def test_a_cancelled_uploads_late_bytes_do_not_block_the_next_version(
    docs: Docs, client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    """The SPA cancels while its PUT is still in flight: the bytes land after the reservation is gone, at
    the path the next version of the same file takes. That stray object must not refuse the next upload."""
    doc = await docs.upload(operator, tenant_a.id)
    ticket = (
        await client.post(
            f"/api/v1/documents/{doc['id']}/uploads",
            headers=operator.headers,
            json={"file_name": "brief-v2.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"},
        )
    ).json()
    r = await client.delete(f"/api/v1/documents/uploads/{ticket['upload_id']}", headers=operator.headers)
    assert r.status_code == 204
    assert (await docs.put(ticket, PDF)).status_code == 200  # the late PUT: its link is still valid
    second = await docs.add_version(operator, doc["id"], data=PDF + b"kept")
    assert second["current_version"]["version"] == 2
    link = (await client.get(f"/api/v1/documents/{doc['id']}/download", headers=operator.headers)).json()
    assert (await client.get(api_path(link["url"]))).content == PDF + b"kept"


async def test_a_reservation_with_unreadable_metadata_is_a_422(
    docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    ticket = (await docs.request(tenant_a.member, tenant_a.id)).json()
    await docs.put(ticket, PDF)
    await sql.execute(
        'update document_uploads set document = \'{"tags": "not a list"}\' where id = $1', ticket["upload_id"]
    )
    r = await docs.confirm(tenant_a.member, ticket["upload_id"])
    assert r.status_code == 422, r.text
    assert await row_counts(sql) == (0, 0, 1)


async def test_an_oversized_body_is_refused_before_it_is_read(
    docs: Docs, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    """Multipart bodies are parsed (spooled to disk) before authentication runs: past the direct-upload
    limit the body is refused as it arrives, for anyone, whether or not it declares its length."""
    url = f"/api/v1/clients/{tenant_a.id}/documents"
    big = b"%PDF-" + b"0" * (4 * MAX)
    r = await client.post(url, files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 413 and r.json()["code"] == "file_too_large", r.text
    encoded = httpx.Request("POST", "http://x" + url, files={"file": ("big.pdf", big, "application/pdf")})
    body = encoded.read()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    r = await client.post(
        url, content=chunked(), headers={**operator.headers, "content-type": encoded.headers["content-type"]}
    )
    assert r.status_code == 413 and r.json()["code"] == "file_too_large", r.text
    assert await row_counts(sql) == (0, 0, 0) and docs.objects() == set()
