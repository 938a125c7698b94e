"""Documents in SQL under `authenticated`: a member sees their clients' shared documents only (never
`internal` ones, never another client's), writes nothing of another client, and within their own
client cannot forge what only the operator decides."""

from __future__ import annotations

import uuid
from typing import Literal, TypedDict
from uuid import UUID

import asyncpg
import pytest

from tests.conftest import Tenant, User
from tests.rls.conftest import AsUser, Denied

SHA = "0" * 64


def path(client_id: UUID, document_id: UUID, version: int = 1, name: str = "f.pdf") -> str:
    """An object path of the shape every version and upload row must have."""
    return f"clients/{client_id}/documents/{document_id}/v{version}/{name}"


async def _document(
    sql: asyncpg.Connection,
    client_id: UUID,
    *,
    source: str = "operator",
    visibility: str = "shared",
    document_type: str = "ressource",
    created_by: UUID | None = None,
    phase: str = "lab",
    title: str = "doc",
) -> UUID:
    doc: UUID = await sql.fetchval(
        "insert into documents (client_id, title, source, visibility, document_type, phase, created_by, status)"
        " values ($1, $2, $3, $4, $5, $6, $7, case when $5 in ('livrable', 'devoir') then 'new' end)"
        " returning id",
        client_id,
        title,
        source,
        visibility,
        document_type,
        phase,
        created_by,
    )
    version = await sql.fetchval(
        "insert into document_versions (document_id, client_id, version, storage_path, file_name, size_bytes,"
        " mime_type, sha256) values ($1, $2, 1, $3, 'f.pdf', 10, 'application/pdf', $4) returning id",
        doc,
        client_id,
        path(client_id, doc),
        SHA,
    )
    await sql.execute("update documents set current_version_id = $2 where id = $1", doc, version)
    return doc


class TenantDocuments(TypedDict):
    """One client's arranged rows: a document of each kind a member may or may not reach, and a pending
    upload."""

    shared: UUID
    internal: UUID
    own: UUID
    homework: UUID
    upload: UUID


Library = dict[UUID, TenantDocuments]


@pytest.fixture
async def library(sql: asyncpg.Connection, tenant_a: Tenant, tenant_b: Tenant) -> Library:
    out: Library = {}
    for tenant in (tenant_a, tenant_b):
        shared = await _document(sql, tenant.id)
        internal = await _document(sql, tenant.id, visibility="internal", source="orpheus")
        own = await _document(sql, tenant.id, source="client", created_by=tenant.member.id)
        homework = await _document(sql, tenant.id, document_type="devoir")
        pending = uuid.uuid4()
        upload: UUID = await sql.fetchval(
            "insert into document_uploads (client_id, document_id, is_new_document, version, storage_path,"
            " file_name, size_bytes, mime_type, document, created_by, expires_at)"
            " values ($1, $4, true, 1, $2, 'x.pdf', 10, 'application/pdf', '{}', $3,"
            " now() + interval '1 hour') returning id",
            tenant.id,
            path(tenant.id, pending, name="x.pdf"),
            tenant.member.id,
            pending,
        )
        out[tenant.id] = TenantDocuments(shared=shared, internal=internal, own=own, homework=homework, upload=upload)
    return out


@pytest.mark.isolates("documents", "document_versions", "document_uploads")
async def test_member_sees_only_their_clients_shared_documents(
    library: Library, as_user: AsUser, operator: User, tenant_a: Tenant
) -> None:
    mine = library[tenant_a.id]
    async with as_user(tenant_a.member) as conn:
        assert {r[0] for r in await conn.fetch("select id from documents")} == {
            mine["shared"],
            mine["own"],
            mine["homework"],
        }
        versions = await conn.fetch("select document_id, client_id from document_versions")
        assert {r[0] for r in versions} == {mine["shared"], mine["own"], mine["homework"]}
        assert {r[0] for r in await conn.fetch("select id from document_uploads")} == {mine["upload"]}
    async with as_user(operator) as conn:
        assert await conn.fetchval("select count(*) from documents") == 8
        assert await conn.fetchval("select count(*) from document_versions") == 8
        assert await conn.fetchval("select count(*) from document_uploads") == 2


async def test_member_cannot_write_into_another_client(
    library: Library, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    theirs = library[tenant_b.id]
    member = tenant_a.member
    async with as_user(member) as conn:
        assert await denied(
            conn,
            "insert into documents (client_id, title, source, phase, created_by) values ($1, 'x', 'client', 'one', $2)",
            tenant_b.id,
            member.id,
        )
        for key in ("shared", "own", "homework", "internal"):
            assert await denied(conn, "update documents set title = 'x' where id = $1", theirs[key])
            assert await denied(conn, "delete from documents where id = $1", theirs[key])
        assert await denied(
            conn,
            "update documents set homework_completed = true, homework_completed_at = now() where id = $1",
            theirs["homework"],
        )
        assert await denied(
            conn,
            "insert into document_versions (document_id, client_id, version, storage_path,"
            " file_name, size_bytes, mime_type, sha256, uploaded_by) values ($1, $2, 9, $5, 'f',"
            " 1, 'application/pdf', $3, $4)",
            theirs["own"],
            tenant_b.id,
            SHA,
            member.id,
            path(tenant_b.id, theirs["own"], 9),
        )
        assert await denied(conn, "delete from document_versions where client_id = $1", tenant_b.id)
        new_id = uuid.uuid4()
        assert await denied(
            conn,
            "insert into document_uploads (client_id, document_id, is_new_document,"
            " version, storage_path, file_name, size_bytes, mime_type, document, created_by,"
            " expires_at) values ($1, $3, true, 1, $4, 'f', 1, 'text/plain', '{}',"
            " $2, now())",
            tenant_b.id,
            member.id,
            new_id,
            path(tenant_b.id, new_id),
        )
        assert await denied(conn, "delete from document_uploads where id = $1", theirs["upload"])
        assert await denied(
            conn,
            "update document_uploads set client_id = $2 where id = $1",
            library[tenant_a.id]["upload"],
            tenant_b.id,
        )
        # A version row cannot claim another client than its document's.
        assert await denied(
            conn,
            "insert into document_versions (document_id, client_id, version, storage_path,"
            " file_name, size_bytes, mime_type, sha256, uploaded_by) values ($1, $2, 9, $5, 'f',"
            " 1, 'application/pdf', $3, $4)",
            library[tenant_a.id]["own"],
            tenant_b.id,
            SHA,
            member.id,
            path(tenant_b.id, library[tenant_a.id]["own"], 9),
        )


async def test_member_cannot_forge_operator_decisions_in_their_own_client(
    library: Library, as_user: AsUser, denied: Denied, tenant_a: Tenant
) -> None:
    mine = library[tenant_a.id]
    member = tenant_a.member
    insert = (
        "insert into documents (client_id, title, source, visibility, document_type, phase, created_by)"
        " values ($1, 'x', $2, $3, $4, 'lab', $5)"
    )
    async with as_user(member) as conn:
        assert await denied(conn, insert, tenant_a.id, "client", "internal", "ressource", member.id)
        assert await denied(conn, insert, tenant_a.id, "orpheus", "shared", "ressource", member.id)
        assert await denied(conn, insert, tenant_a.id, "client", "shared", "devoir", member.id)
        assert not await denied(conn, insert, tenant_a.id, "client", "shared", "livrable", member.id)
        for statement in (
            "update documents set visibility = 'internal' where id = $1",
            "update documents set source = 'operator' where id = $1",
            "update documents set document_type = 'devoir' where id = $1",
            "update documents set status = 'validated', document_type = 'livrable' where id = $1",
            "update documents set client_id = client_id, phase = 'one' where id = $1",
        ):
            assert await denied(conn, statement, mine["own"]), statement
        for key in ("shared", "homework"):
            assert await denied(conn, "update documents set title = 'renamed' where id = $1", mine[key])
            assert await denied(conn, "update documents set archived_at = now() where id = $1", mine[key])
        assert await denied(conn, "update documents set homework_due_at = now() where id = $1", mine["homework"])
        assert await denied(conn, "update documents set title = 'x' where id = $1", mine["internal"])
        assert await denied(conn, "delete from documents where id = $1", mine["own"])
        assert await denied(
            conn,
            "insert into document_versions (document_id, client_id, version, storage_path,"
            " file_name, size_bytes, mime_type, sha256, uploaded_by) values ($1, $2, 2, $5, 'f',"
            " 1, 'application/pdf', $3, $4)",
            mine["shared"],
            tenant_a.id,
            SHA,
            member.id,
            path(tenant_a.id, mine["shared"], 2),
        )
        # What a member may do: their own document, and completing homework.
        assert not await denied(conn, "update documents set title = 'mine', tags = '{a}' where id = $1", mine["own"])
        assert not await denied(
            conn,
            "update documents set homework_completed = true, homework_completed_at = now() where id = $1",
            mine["homework"],
        )


async def test_lab_documents_are_read_only_once_the_client_is_on_one(
    library: Library, sql: asyncpg.Connection, as_user: AsUser, denied: Denied, tenant_a: Tenant
) -> None:
    mine = library[tenant_a.id]
    await sql.execute("update client_configs set dashboard_type = 'one' where client_id = $1", tenant_a.id)
    async with as_user(tenant_a.member) as conn:
        assert await denied(conn, "update documents set title = 'x' where id = $1", mine["own"])
        assert await conn.fetchval("select count(*) from documents where phase = 'lab'") == 3


async def test_next_version_number_is_only_told_for_visible_documents(
    library: Library, as_user: AsUser, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    async with as_user(tenant_a.member) as conn:
        assert await conn.fetchval("select private.next_document_version($1)", library[tenant_a.id]["own"]) == 2
        assert await conn.fetchval("select private.next_document_version($1)", library[tenant_b.id]["own"]) is None
        assert await conn.fetchval("select private.next_document_version($1)", library[tenant_a.id]["internal"]) is None


UPLOAD = (
    "insert into document_uploads (client_id, document_id, is_new_document, version, storage_path, file_name,"
    " size_bytes, mime_type, document, created_by, expires_at) values ($1, $2, $3, $4, $5, 'f.pdf', 10,"
    " 'application/pdf', case when $3 then '{}'::jsonb end, $6, now() + interval '1 hour')"
)
VERSION = (
    "insert into document_versions (document_id, client_id, version, storage_path, file_name, size_bytes,"
    " mime_type, sha256, uploaded_by) values ($1, $2, $3, $4, 'f.pdf', 10, 'application/pdf', $5, $6)"
)


async def test_an_upload_row_can_only_name_a_new_object_of_its_own_document(
    library: Library, sql: asyncpg.Connection, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Cancelling, refusing and sweeping an upload delete the object its row names: a member must not be
    able to make a row name an existing version's object, or another client's."""
    mine, theirs = library[tenant_a.id], library[tenant_b.id]
    member = tenant_a.member
    async with as_user(member) as conn:
        for document_id, version, storage_path, is_new in (
            (mine["shared"], 1, path(tenant_a.id, mine["shared"]), False),  # the live v1 object
            (mine["own"], 1, path(tenant_a.id, mine["own"]), False),
            (mine["internal"], 1, path(tenant_a.id, mine["internal"]), False),  # a document I cannot see
            (mine["own"], 1, path(tenant_a.id, mine["own"]), True),  # "new" document with an existing id
            (mine["own"], 2, path(tenant_b.id, theirs["own"], 2), False),  # another client's folder
            (mine["own"], 2, path(tenant_a.id, mine["shared"], 2), False),  # another document's folder
            (mine["own"], 2, f"clients/{tenant_a.id}/documents/{mine['own']}/v2/../../../x.pdf", False),
            (mine["own"], 2, "recordings/meeting.mp4", False),
            (theirs["own"], 2, path(tenant_a.id, theirs["own"], 2), False),  # a document of another client
        ):
            assert await denied(conn, UPLOAD, tenant_a.id, document_id, is_new, version, storage_path, member.id), (
                document_id,
                version,
                storage_path,
                is_new,
            )
        # What the flow itself does is still allowed: a next version, or a new document's first one.
        fresh = uuid.uuid4()
        assert not await denied(
            conn, UPLOAD, tenant_a.id, mine["own"], False, 2, path(tenant_a.id, mine["own"], 2), member.id
        )
        assert not await denied(conn, UPLOAD, tenant_a.id, fresh, True, 1, path(tenant_a.id, fresh), member.id)
        # A reservation is not edited afterwards (nothing in the flow does; a member must not re-point it).
        assert await denied(
            conn,
            "update document_uploads set storage_path = $2 where id = $1",
            mine["upload"],
            path(tenant_a.id, mine["shared"]),
        )
        assert await denied(conn, "update document_uploads set expires_at = 'infinity' where id = $1", mine["upload"])
    assert await sql.fetchval("select count(*) from document_uploads") == 2


async def test_a_member_adds_versions_only_where_the_service_would(
    library: Library, sql: asyncpg.Connection, as_user: AsUser, denied: Denied, tenant_a: Tenant
) -> None:
    mine = library[tenant_a.id]
    member = tenant_a.member

    async def add(conn: asyncpg.Connection, key: Literal["own", "homework"], version: int = 2) -> bool:
        return await denied(
            conn, VERSION, mine[key], tenant_a.id, version, path(tenant_a.id, mine[key], version), SHA, member.id
        )

    async with as_user(member) as conn:
        assert not await add(conn, "own") and not await add(conn, "homework")
        # Outside its document's folder, or over a number a pending upload holds.
        assert await denied(
            conn, VERSION, mine["own"], tenant_a.id, 3, path(tenant_a.id, mine["shared"], 3), SHA, member.id
        )
    await sql.execute(UPLOAD, tenant_a.id, mine["own"], False, 2, path(tenant_a.id, mine["own"], 2), tenant_a.member.id)
    async with as_user(member) as conn:
        assert await add(conn, "own")
    await sql.execute(
        "update documents set status = 'validated', homework_completed = true,"
        " homework_completed_at = now() where id = $1",
        mine["homework"],
    )
    await sql.execute("update documents set archived_at = now() where id = $1", mine["own"])
    async with as_user(member) as conn:
        assert await add(conn, "homework", 3)  # validated homework is closed
        assert await add(conn, "own", 3)  # archived
    await sql.execute("update documents set archived_at = null where id = $1", mine["own"])
    await sql.execute("update client_configs set dashboard_type = 'one' where client_id = $1", tenant_a.id)
    async with as_user(member) as conn:
        assert await add(conn, "own", 3)  # Lab history is read-only


async def test_a_member_cannot_bend_a_documents_own_fields(
    library: Library, sql: asyncpg.Connection, as_user: AsUser, denied: Denied, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = library[tenant_a.id]
    member = tenant_a.member
    other_version = await sql.fetchval("select current_version_id from documents where id = $1", mine["shared"])
    theirs = await sql.fetchval("select current_version_id from documents where id = $1", library[tenant_b.id]["own"])
    livrable = await _document(sql, tenant_a.id, document_type="livrable")
    insert = (
        "insert into documents (client_id, title, source, phase, created_by, current_version_id)"
        " values ($1, 'x', 'client', $2, $3, $4)"
    )
    async with as_user(member) as conn:
        # The current version is one of the document's own versions.
        for version in (other_version, theirs):
            assert await denied(
                conn, "update documents set current_version_id = $2 where id = $1", mine["own"], version
            )
            assert await denied(conn, insert, tenant_a.id, "lab", member.id, version)
        # A new document is in the client's current phase (Lab documents become read-only history).
        assert await denied(conn, insert, tenant_a.id, "one", member.id, None)
        assert not await denied(conn, insert, tenant_a.id, "lab", member.id, None)
        # The operator's status of a deliverable is the operator's.
        assert await denied(conn, "update documents set status = null where id = $1", livrable)
        # Nothing changes on an archived document but its restoration.
    await sql.execute("update documents set archived_at = now() where id = $1", mine["own"])
    async with as_user(member) as conn:
        assert await denied(conn, "update documents set title = 'x' where id = $1", mine["own"])
        assert not await denied(conn, "update documents set archived_at = null where id = $1", mine["own"])


async def _confirm_error(
    conn: asyncpg.Connection, upload_id: UUID, document: str | None = None
) -> tuple[str, str | None] | None:
    """The SQLSTATE and detail private.confirm_document_upload answers, in a savepoint."""
    try:
        async with conn.transaction():
            await conn.fetchval(
                "select private.confirm_document_upload($1, 10, $2, $3::text::jsonb, null)", upload_id, SHA, document
            )
    except asyncpg.PostgresError as exc:
        return exc.sqlstate, exc.detail
    return None


async def test_confirming_through_sql_is_held_to_rls_and_the_documents_state(
    library: Library, sql: asyncpg.Connection, as_user: AsUser, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """The one-statement confirm runs as the caller: another client's pending upload does not exist for a
    member, and a version never lands on a document archived since the service checked it."""
    theirs = library[tenant_b.id]["upload"]
    async with as_user(tenant_a.member) as conn:
        assert await _confirm_error(conn, theirs, '{"title": "x"}') == ("FX404", "upload")
    doc = library[tenant_a.id]["shared"]
    upload = await sql.fetchval(
        "insert into document_uploads (client_id, document_id, is_new_document, version, storage_path, file_name,"
        " size_bytes, mime_type, created_by, expires_at)"
        " values ($1, $2, false, 2, $3, 'f.pdf', 10, 'application/pdf', $4, now() + interval '1 hour')"
        " returning id",
        tenant_a.id,
        doc,
        path(tenant_a.id, doc, 2),
        operator.id,
    )
    await sql.execute("update documents set archived_at = now() where id = $1", doc)
    async with as_user(operator) as conn:
        assert await _confirm_error(conn, upload) == ("FX409", None)
    assert await sql.fetchval("select count(*) from document_versions where document_id = $1", doc) == 1
    assert await sql.fetchval("select count(*) from document_uploads where id = $1", upload) == 1
