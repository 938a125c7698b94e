"""The local backend's signed links served by the API (PUT upload, GET download), and how the app
picks its storage backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integrations.storage import LocalStorage, SupabaseStorage
from services.core.settings import Settings
from services.documents.storage import build_storage

PATH = "clients/c1/documents/d1/v1/brief.pdf"
PDF = b"%PDF-1.7\n" + b"q" * 5000


def local_path(url: str) -> str:
    """The API path and query of a signed URL (the test client talks to the app directly)."""
    return httpx.URL(url).raw_path.decode()


@pytest.fixture
def storage(app: FastAPI) -> LocalStorage:
    backend = app.state.storage
    assert isinstance(backend, LocalStorage)
    return backend


async def test_signed_upload_and_download_through_the_api(
    client: httpx.AsyncClient, storage: LocalStorage, tmp_path: Path
) -> None:
    upload = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=len(PDF), expires_in=60)
    assert upload.url.startswith("http://127.0.0.1:8000/api/v1/storage/object/upload/sign/foxeo/")
    r = await client.put(local_path(upload.url), content=PDF, headers=upload.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"Key": f"foxeo/{PATH}"}
    assert (tmp_path / "storage" / "objects" / "foxeo" / PATH).read_bytes() == PDF

    again = await client.put(local_path(upload.url), content=PDF, headers=upload.headers)
    assert again.status_code == 409 and again.json()["code"] == "object_exists"

    link = await storage.create_signed_download(PATH, expires_in=60, download_name="Brief initial é.pdf")
    r = await client.get(local_path(link.url))
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "Brief%20initial%20%C3%A9.pdf" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_expired_and_tampered_links_are_refused(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    await storage.put(PATH, PDF, content_type="application/pdf")
    expired = storage.sign("download", PATH, -1)
    r = await client.get(f"/api/v1/storage/object/sign/foxeo/{PATH}", params={"token": expired})
    assert r.status_code == 403 and r.json()["code"] == "signed_link_expired"

    valid = storage.sign("download", PATH, 60)
    payload, mac = valid.split(".")
    for forged in (
        f"{payload}x.{mac}",
        f"{payload}.{mac[::-1]}",
        storage.sign("upload", PATH, 60),
        storage.sign("download", "clients/c1/documents/d1/v1/other.pdf", 60),
    ):
        r = await client.get(f"/api/v1/storage/object/sign/foxeo/{PATH}", params={"token": forged})
        assert r.status_code == 403 and r.json()["code"] == "signed_link_invalid", forged

    r = await client.get(f"/api/v1/storage/object/sign/foxeo/{PATH}")
    assert r.status_code == 401 and r.json()["code"] == "signed_link_missing"
    r = await client.put(f"/api/v1/storage/object/upload/sign/foxeo/{PATH}", content=b"x")
    assert r.status_code == 401


async def test_uploads_past_the_link_limit_are_refused(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    upload = await storage.create_signed_upload(PATH, content_type="application/pdf", max_bytes=100, expires_in=60)
    r = await client.put(local_path(upload.url), content=PDF, headers=upload.headers)
    assert r.status_code == 413 and r.json()["code"] == "object_too_large"
    assert await storage.info(PATH) is None


async def test_other_buckets_and_missing_objects(client: httpx.AsyncClient, storage: LocalStorage) -> None:
    token = storage.sign("download", PATH, 60)
    r = await client.get(f"/api/v1/storage/object/sign/elsewhere/{PATH}", params={"token": token})
    assert r.status_code == 404
    r = await client.get(f"/api/v1/storage/object/sign/foxeo/{PATH}", params={"token": token})
    assert r.status_code == 404 and r.json()["code"] == "object_not_found"


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(FOXEO_DATA_DIR=tmp_path, SUPABASE_JWT_SECRET="s" * 40, **extra)


async def test_backend_choice(tmp_path: Path) -> None:
    local = build_storage(_settings(tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "storage"
    assert isinstance(build_storage(_settings(tmp_path, FOXEO_STORAGE_DIR=tmp_path / "files")), LocalStorage)
    supa = build_storage(
        _settings(
            tmp_path,
            SUPABASE_URL="https://p.supabase.co",
            SUPABASE_SECRET_KEY="sb_secret_x",
            FOXEO_STORAGE_BUCKET="docs",
        )
    )
    assert isinstance(supa, SupabaseStorage) and supa.bucket == "docs"
    assert supa.base_url == "https://p.supabase.co/storage/v1"
    await supa.aclose()
    forced_local = build_storage(
        _settings(
            tmp_path,
            SUPABASE_URL="https://p.supabase.co",
            SUPABASE_SECRET_KEY="sb_secret_x",
            FOXEO_STORAGE_BACKEND="local",
        )
    )
    assert isinstance(forced_local, LocalStorage)
    with pytest.raises(ValueError):
        build_storage(_settings(tmp_path, FOXEO_STORAGE_BACKEND="supabase"))


async def test_jwks_only_projects_get_a_random_local_signing_key(tmp_path: Path) -> None:
    one = build_storage(Settings(FOXEO_DATA_DIR=tmp_path, SUPABASE_URL="https://p.supabase.co"))
    other = build_storage(Settings(FOXEO_DATA_DIR=tmp_path / "elsewhere", SUPABASE_URL="https://p.supabase.co"))
    assert isinstance(one, LocalStorage) and isinstance(other, LocalStorage)
    token = one.sign("download", PATH, 60)
    assert one.verify(token, op="download", path=PATH)
    with pytest.raises(Exception, match="signature"):
        other.verify(token, op="download", path=PATH)
