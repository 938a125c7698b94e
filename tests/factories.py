"""Typed factories for the rows tests arrange directly in SQL: sensible defaults, frozen results.

A test states only what matters to it (`await create_client(sql, status="one")`); the rest is
what the operator or Supabase Auth would have written. They run on the superuser `sql`
connection, so RLS does not apply: the API under test is what must respect it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

ClientStatus = Literal["prospect", "lab", "one", "archived"]
Phase = Literal["lab", "one"]


@dataclass(frozen=True)
class UserRow:
    id: UUID
    email: str
    operator: bool


@dataclass(frozen=True)
class ClientRow:
    id: UUID
    company_name: str
    status: str
    tags: tuple[str, ...]
    dashboard_type: Phase
    active_modules: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class MemberRow:
    client_id: UUID
    user: UserRow
    role: Literal["owner", "member"]


@dataclass(frozen=True)
class StepRow:
    id: UUID
    position: int
    title: str
    status: str


@dataclass(frozen=True)
class ProjectRow:
    id: UUID
    client_id: UUID
    kind: str
    phase: Phase
    name: str
    status: str
    steps: tuple[StepRow, ...]


@dataclass(frozen=True)
class DocumentRow:
    id: UUID
    client_id: UUID
    title: str
    phase: Phase
    visibility: str
    document_type: str
    source: str
    project_id: UUID | None


def _dashboard_of(status: str) -> Phase:
    return "one" if status == "one" else "lab"


def default_modules(dashboard_type: Phase) -> tuple[str, ...]:
    return ("documents", "chat", "home") if dashboard_type == "one" else ("documents", "chat", "journey")


async def create_user(
    sql: asyncpg.Connection, *, email: str | None = None, operator: bool = False, user_id: UUID | None = None
) -> UserRow:
    """An auth.users row as Supabase Auth holds it; the operator is marked in its app metadata."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    app_metadata = {"provider": "email", "role": "operator"} if operator else {"provider": "email"}
    found: UUID = await sql.fetchval(
        "insert into auth.users (id, email, raw_app_meta_data) values ($1, $2, $3::jsonb) returning id",
        user_id or uuid.uuid4(),
        email,
        json.dumps(app_metadata),
    )
    return UserRow(found, email, operator)


async def create_client(
    sql: asyncpg.Connection,
    *,
    company_name: str = "Acme",
    status: ClientStatus = "lab",
    tags: Sequence[str] = (),
    active_modules: Sequence[str] | None = None,
) -> ClientRow:
    """A client with its configuration row, as `POST /clients` leaves them."""
    row = await sql.fetchrow(
        "insert into public.clients (company_name, status, tags) values ($1, $2, $3) returning id, created_at",
        company_name,
        status,
        list(tags),
    )
    assert row is not None
    dashboard = _dashboard_of(status)
    modules = tuple(active_modules) if active_modules is not None else default_modules(dashboard)
    await sql.execute(
        "insert into public.client_configs (client_id, dashboard_type, active_modules) values ($1, $2, $3)",
        row["id"],
        dashboard,
        list(modules),
    )
    return ClientRow(row["id"], company_name, status, tuple(tags), dashboard, modules, row["created_at"])


async def create_member(
    sql: asyncpg.Connection,
    client_id: UUID,
    *,
    user: UserRow | None = None,
    role: Literal["owner", "member"] = "member",
) -> MemberRow:
    """`user` (a new one when omitted) made a member of the client."""
    user = user or await create_user(sql)
    await sql.execute(
        "insert into public.client_members (client_id, user_id, email, role) values ($1, $2, $3, $4)",
        client_id,
        user.id,
        user.email,
        role,
    )
    return MemberRow(client_id, user, role)


async def create_project(
    sql: asyncpg.Connection,
    client_id: UUID,
    *,
    name: str = "Parcours",
    kind: Literal["journey", "delivery", "evolution"] = "journey",
    phase: Phase = "lab",
    status: Literal["planned", "active", "paused", "done", "cancelled"] = "active",
    steps: Sequence[str] = (),
) -> ProjectRow:
    """A project with one `todo` step per title in `steps`, positioned 1, 2, … in that order."""
    project_id: UUID = await sql.fetchval(
        "insert into public.projects (client_id, kind, phase, name, status) values ($1, $2, $3, $4, $5) returning id",
        client_id,
        kind,
        phase,
        name,
        status,
    )
    rows = await sql.fetch(
        "insert into public.project_steps (client_id, project_id, position, title)"
        " select $1, $2, t.position, t.title from unnest($3::text[]) with ordinality as t (title, position)"
        " returning id, position, title, status",
        client_id,
        project_id,
        list(steps),
    )
    made = sorted((StepRow(r["id"], r["position"], r["title"], r["status"]) for r in rows), key=lambda s: s.position)
    return ProjectRow(project_id, client_id, kind, phase, name, status, tuple(made))


async def create_document(
    sql: asyncpg.Connection,
    client_id: UUID,
    *,
    title: str = "Doc",
    phase: Phase = "lab",
    visibility: Literal["shared", "internal"] = "shared",
    document_type: Literal["livrable", "ressource", "devoir", "archive"] = "ressource",
    source: Literal["operator", "client", "orpheus", "elio", "meeting"] = "operator",
    project_id: UUID | None = None,
    created_by: UUID | None = None,
) -> DocumentRow:
    """A document row without a file version (what the metadata routes and the RLS suite need)."""
    document_id: UUID = await sql.fetchval(
        "insert into public.documents (client_id, title, phase, visibility, document_type, source, project_id,"
        " created_by) values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        client_id,
        title,
        phase,
        visibility,
        document_type,
        source,
        project_id,
        created_by,
    )
    return DocumentRow(document_id, client_id, title, phase, visibility, document_type, source, project_id)
