"""Documents test kit: sample files and helpers driving both upload flows."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import orjson

from tests.conftest import User

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + b"0" * 3000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 500
DIRECT_MAX = 64 * 1024
MAX = 256 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def api_path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


class Docs:
    """Drives the documents API the way the SPAs do."""

    def __init__(self, http: httpx.AsyncClient, root: Path) -> None:
        self.http = http
        self.root = root

    async def upload(
        self,
        user: User,
        client_id: UUID,
        *,
        name: str = "brief.pdf",
        data: bytes = PDF,
        mime: str = "application/pdf",
        expect: int | None = 201,
        **fields: Any,
    ) -> Any:
        r = await self.http.post(
            f"/api/v1/clients/{client_id}/documents",
            headers=user.headers,
            files={"file": (name, data, mime)},
            data=fields,
        )
        if expect is not None:
            assert r.status_code == expect, r.text
        return r.json() if expect == 201 else r

    async def add_version(
        self,
        user: User,
        document_id: Any,
        *,
        name: str = "brief-v2.pdf",
        data: bytes = PDF + b"v2",
        mime: str = "application/pdf",
        expect: int | None = 201,
    ) -> Any:
        r = await self.http.post(
            f"/api/v1/documents/{document_id}/versions", headers=user.headers, files={"file": (name, data, mime)}
        )
        if expect is not None:
            assert r.status_code == expect, r.text
        return r.json() if expect == 201 else r

    async def request(
        self,
        user: User,
        client_id: UUID,
        *,
        data: bytes = PDF,
        name: str = "brief.pdf",
        mime: str = "application/pdf",
        size: int | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"file_name": name, "size_bytes": len(data) if size is None else size, "mime_type": mime, **extra}
        return await self.http.post(f"/api/v1/clients/{client_id}/documents/uploads", headers=user.headers, json=body)

    async def put(self, ticket: dict[str, Any], data: bytes, content_type: str | None = None) -> httpx.Response:
        headers = dict(ticket["upload"]["headers"])
        if content_type:
            headers["Content-Type"] = content_type
        return await self.http.put(api_path(ticket["upload"]["url"]), content=data, headers=headers)

    async def confirm(self, user: User, upload_id: Any) -> httpx.Response:
        return await self.http.post(f"/api/v1/documents/uploads/{upload_id}/confirm", headers=user.headers)

    async def signed(self, user: User, client_id: UUID, *, data: bytes = PDF, **extra: Any) -> Any:
        r = await self.request(user, client_id, data=data, **extra)
        assert r.status_code == 201, r.text
        ticket = r.json()
        assert (await self.put(ticket, data)).status_code == 200
        r = await self.confirm(user, ticket["upload_id"])
        assert r.status_code == 201, r.text
        return r.json()

    async def get(self, user: User, document_id: Any) -> httpx.Response:
        return await self.http.get(f"/api/v1/documents/{document_id}", headers=user.headers)

    async def list(self, user: User, **params: Any) -> Any:
        r = await self.http.get("/api/v1/documents", headers=user.headers, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def objects(self) -> set[str]:
        base = self.root / "objects" / "foxeo"
        if not base.exists():
            return set()
        return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


async def row_counts(sql: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        await sql.fetchval("select count(*) from documents"),
        await sql.fetchval("select count(*) from document_versions"),
        await sql.fetchval("select count(*) from document_uploads"),
    )


async def actions(sql: asyncpg.Connection, entity_id: object) -> list[str]:
    rows = await sql.fetch("select action from audit_log where entity_id = $1 order by id", str(entity_id))
    return [r["action"] for r in rows]


async def as_member(database_url: str, user: User, statement: str, *args: Any) -> Any:
    """Run one statement the way supabase-js would with this user's token: `authenticated`, their claims,
    committed. Returns the first column of the first row, or the error Postgres raised."""
    claims = {
        "sub": str(user.id),
        "aud": "authenticated",
        "role": "authenticated",
        "email": user.email,
        "app_metadata": {"provider": "email"},
    }
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("select set_config('request.jwt.claims', $1, true)", orjson.dumps(claims).decode())
            await conn.execute("set local role authenticated")
            return await conn.fetchval(statement, *args)
    except asyncpg.PostgresError as exc:
        return exc
    finally:
        await conn.close()
