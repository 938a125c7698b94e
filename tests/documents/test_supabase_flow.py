"""The signed-upload flow against Supabase Storage (respx): the API signs, the browser uploads to
Supabase, confirm reads the object back; a refused file is deleted from the bucket."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import respx
from fastapi import FastAPI

from integrations.storage import SupabaseStorage
from tests.conftest import Tenant, User
from tests.documents.kit import PDF, PNG, Docs, row_counts

BASE = "https://proj.supabase.co/storage/v1"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def bucket(app: FastAPI) -> AsyncIterator[respx.MockRouter]:
    """Supabase Storage as the app's backend, its HTTP API mocked."""
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        storage = SupabaseStorage("https://proj.supabase.co", "sb_secret_test", "foxeo", sleep=_no_sleep)
        real, app.state.storage = app.state.storage, storage
        try:
            yield mock
        finally:
            app.state.storage = real
            await storage.aclose()


def sign_upload(mock: respx.MockRouter, path_prefix: str) -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.path.removeprefix("/storage/v1/object/upload/sign/")
        token = jwt.encode({"url": name, "exp": 4102444800}, "storage-secret-" + "z" * 32, algorithm="HS256")
        return respx.MockResponse(200, json={"url": f"/object/upload/sign/{name}?token={token}", "token": token})

    return mock.post(url__startswith=f"{BASE}/object/upload/sign/foxeo/{path_prefix}").mock(side_effect=answer)


def info(size: int, content_type: str) -> dict[str, Any]:
    return {
        "id": "0b6a9d3c-4c1e-4a55-9c55-111111111111",
        "name": "x",
        "version": "v",
        "bucket_id": "foxeo",
        "size": size,
        "content_type": content_type,
        "cache_control": "max-age=3600",
        "etag": '"e"',
        "metadata": None,
        "last_modified": "2026-01-25T10:00:00.000Z",
        "created_at": "2026-01-25T10:00:00.000Z",
    }


async def test_signed_upload_through_supabase(
    bucket: respx.MockRouter, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    sign = sign_upload(bucket, f"clients/{tenant_a.id}/documents/")
    r = await docs.request(operator, tenant_a.id, name="Brief.pdf")
    assert r.status_code == 201, r.text
    ticket = r.json()
    path = f"clients/{tenant_a.id}/documents/{ticket['document_id']}/v1/Brief.pdf"
    assert sign.called and ticket["upload"]["url"].startswith(f"{BASE}/object/upload/sign/foxeo/{path}?token=")
    assert ticket["upload"]["expires_at"].startswith("2100-01-01")

    # The browser PUTs the file to Supabase; then the API reads it back.
    bucket.get(f"/object/info/foxeo/{path}").respond(200, json=info(len(PDF), "application/pdf"))
    bucket.get(f"/object/authenticated/foxeo/{path}").respond(200, content=PDF)
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 201, r.text
    assert r.json()["current_version"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert await row_counts(sql) == (1, 1, 0)

    bucket.post(f"/object/sign/foxeo/{path}", json={"expiresIn": "300"}).respond(
        200, json={"signedURL": f"/object/sign/foxeo/{path}?token=abc"}
    )
    link = await docs.http.get(f"/api/v1/documents/{ticket['document_id']}/download", headers=operator.headers)
    assert link.json()["url"] == f"{BASE}/object/sign/foxeo/{path}?token=abc&download=Brief.pdf"


async def test_a_refused_file_is_deleted_from_the_bucket(
    bucket: respx.MockRouter, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    sign_upload(bucket, f"clients/{tenant_a.id}/documents/")
    ticket = (await docs.request(operator, tenant_a.id, name="Brief.pdf")).json()
    path = f"clients/{tenant_a.id}/documents/{ticket['document_id']}/v1/Brief.pdf"
    bucket.get(f"/object/info/foxeo/{path}").respond(200, json=info(len(PDF), "application/pdf"))
    bucket.get(f"/object/authenticated/foxeo/{path}").respond(200, content=PNG + b"\x00" * (len(PDF) - len(PNG)))
    delete = bucket.delete("/object/foxeo").respond(200, json=[])
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 422 and r.json()["field"] == "mime_type"
    assert json.loads(delete.calls.last.request.content) == {"prefixes": [path]}
    documents, versions, _ = await row_counts(sql)
    assert (documents, versions) == (0, 0)


async def test_nothing_uploaded_yet(bucket: respx.MockRouter, docs: Docs, operator: User, tenant_a: Tenant) -> None:
    sign_upload(bucket, f"clients/{tenant_a.id}/documents/")
    ticket = (await docs.request(operator, tenant_a.id, name="Brief.pdf")).json()
    bucket.get(url__startswith=f"{BASE}/object/info/foxeo/").respond(
        400, json={"statusCode": "404", "error": "not_found", "message": "Object not found"}
    )
    r = await docs.confirm(operator, ticket["upload_id"])
    assert r.status_code == 409 and r.json()["code"] == "upload_not_received"


async def test_storage_outage_is_a_503(
    bucket: respx.MockRouter, docs: Docs, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    bucket.post(url__startswith=f"{BASE}/object/upload/sign/").respond(503)
    r = await docs.request(operator, tenant_a.id)
    assert r.status_code == 503 and r.json()["code"] == "integration_unavailable"
    assert await row_counts(sql) == (0, 0, 0)
