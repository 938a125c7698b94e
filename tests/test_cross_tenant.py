"""Cross-tenant matrix generated from the route table: every route with a client-owned resource in its
path is called, with every method, by the member of the other client (A's member on B's resources, B's
member on A's) and must answer 403 or 404 with nothing changed in the database (row counts and a checksum
of every public table compared before and after).

A route with a path parameter must be covered: each parameter name is either a tenant-scoped resource the
seeded world builds for both clients (TENANT_SCOPED) or an operator-owned key (NOT_TENANT_SCOPED); a
route whose parameters are all operator-owned, or that authenticates by other means, is listed in
UNSCOPED_ROUTES. A new route with a new parameter fails the guard until it joins one of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from tests.conftest import World
from tests.contract.routes import api_routes
from tests.contract.seed import seed
from tests.documents.kit import PDF

# Path parameter → what it names; the seeded world (tests/contract/seed.py) builds one of each per client.
TENANT_SCOPED = {
    "client_id": "the client",
    "user_id": "a member of the client",
    "project_id": "a project of the client",
    "step_id": "a step of that project",
    "task_id": "a task of that project",
    "document_id": "a document of the client",
    "upload_id": "a pending document upload of the client",
    "conversation_id": "the client's conversation",
    "message_id": "a message in that conversation",
    "validation_id": "a validation request of the client",
    "evolution_id": "an evolution request of the client",
    "notification_id": "a notification of the client's member",
    "job_id": "a queued job about the client (operator-only routes)",
    "meeting_id": "a meeting of the client",
    "recording_id": "a recording of that meeting",
    "transcript_id": "the transcript of that meeting's recording (operator-only routes)",
    "quote_id": "a sent quote of the client",
    "invoice_id": "a finalized invoice of the client",
    "subscription_id": "a subscription of the client (operator-only changes)",
    "reminder_id": "a reminder addressed to the client's members",
    "email_id": "an outbox e-mail about the client (operator-only routes)",
    "appointment_id": "an appointment of the client",
}
# Operator-owned catalogue keys: not a client's resource (the route is scoped by its other parameters).
NOT_TENANT_SCOPED = {"key": "a module of the catalogue", "template_id": "a journey template"}
# Routes with no client-owned resource in their path, or that authenticate without a token.
UNSCOPED_ROUTES = {
    "/api/v1/previsio/{previsio_token}": "the pre-visio form: authorised by our signed link (tests/prospects)",
    "/api/v1/modules/{key}": "the module catalogue is operator-owned",
    "/api/v1/journey-templates/{template_id}": "journey templates are operator-owned",
    "/api/v1/journey-templates/{template_id}/archive": "journey templates are operator-owned",
    "/api/v1/storage/object/upload/sign/{bucket}/{path:path}": "signed links: authorised by their HMAC (tests/storage)",
    "/api/v1/storage/object/sign/{bucket}/{path:path}": "signed links: authorised by their HMAC (tests/storage)",
    "/api/v1/webhooks/deepgram/{token}": "Deepgram's callback: authorised by our signed token (tests/transcripts)",
    "/api/v1/billing/exports/{export_id}": "accounting exports are operator-owned (tests/billing_sync)",
    "/api/v1/billing/exports/{export_id}/download": "accounting exports are operator-owned (tests/billing_sync)",
}

Ids = dict[str, str]
# Valid bodies, so the answer is the authorisation decision and not a 422 on the body.
FILE = {"file": ("brief.pdf", PDF, "application/pdf")}
DECLARED = {"file_name": "x.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"}
BODIES: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "PATCH /api/v1/agenda/appointments/{appointment_id}": lambda ids: {"json": {"title": "Pris"}},
    "POST /api/v1/agenda/appointments/{appointment_id}/cancel": lambda ids: {"json": {"reason": "intrus"}},
    "POST /api/v1/prospects/{client_id}/status": lambda ids: {"json": {"temperature": "hot"}},
    "POST /api/v1/prospects/{client_id}/convert": lambda ids: {"json": {"to": "lab"}},
    "PATCH /api/v1/clients/{client_id}": lambda ids: {"json": {"company_name": "Pris"}},
    "POST /api/v1/clients/{client_id}/members": lambda ids: {"json": {"email": "intrus@example.com"}},
    "PATCH /api/v1/clients/{client_id}/config": lambda ids: {"json": {"dashboard_type": "one"}},
    "POST /api/v1/chat/conversations/{conversation_id}/messages": lambda ids: {"json": {"body": "intrus"}},
    "PATCH /api/v1/chat/messages/{message_id}": lambda ids: {"json": {"body": "intrus"}},
    "POST /api/v1/chat/conversations/{conversation_id}/read": lambda ids: {"json": {}},
    "POST /api/v1/clients/{client_id}/documents": lambda ids: {"files": FILE},
    "POST /api/v1/clients/{client_id}/documents/uploads": lambda ids: {"json": DECLARED},
    "PATCH /api/v1/documents/{document_id}": lambda ids: {"json": {"title": "Pris"}},
    "POST /api/v1/documents/{document_id}/versions": lambda ids: {"files": FILE},
    "POST /api/v1/documents/{document_id}/uploads": lambda ids: {"json": DECLARED},
    "PATCH /api/v1/evolutions/{evolution_id}": lambda ids: {"json": {"title": "Pris"}},
    "POST /api/v1/evolutions/{evolution_id}/status": lambda ids: {"json": {"status": "estimating"}},
    "POST /api/v1/clients/{client_id}/graduate": lambda ids: {"json": {}},
    "POST /api/v1/clients/{client_id}/reactivate-lab": lambda ids: {"json": {}},
    "PATCH /api/v1/projects/{project_id}": lambda ids: {"json": {"name": "Pris"}},
    "POST /api/v1/projects/{project_id}/steps": lambda ids: {"json": {"title": "Intrus"}},
    "PUT /api/v1/projects/{project_id}/steps/order": lambda ids: {"json": {"step_ids": [ids["step_id"]]}},
    "PATCH /api/v1/projects/{project_id}/steps/{step_id}": lambda ids: {"json": {"title": "Pris"}},
    "POST /api/v1/projects/{project_id}/comments": lambda ids: {"json": {"body": "intrus"}},
    "POST /api/v1/projects/{project_id}/tasks": lambda ids: {"json": {"title": "Intrus"}},
    "PATCH /api/v1/projects/{project_id}/tasks/{task_id}": lambda ids: {"json": {"title": "Pris"}},
    "POST /api/v1/clients/{client_id}/journeys": lambda ids: {"json": {"template_id": ids["template_id"]}},
    "POST /api/v1/validations/{validation_id}/approve": lambda ids: {"json": {}},
    "POST /api/v1/validations/{validation_id}/request-changes": lambda ids: {"json": {"comment": "non"}},
    "POST /api/v1/validations/{validation_id}/reject": lambda ids: {"json": {"comment": "non"}},
    "POST /api/v1/billing/quotes/{quote_id}/decline": lambda ids: {"json": {"reason": "non"}},
}

_TABLES = """select table_name from information_schema.tables
             where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name"""


_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def path_parameters(path: str) -> list[str]:
    return _PARAMETER.findall(path)


def fill(path: str, ids: Ids) -> str:
    return _PARAMETER.sub(lambda m: ids[m.group(1)], path)


def scoped_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route with a client-owned resource in its path."""
    return sorted(
        (method, route.path)
        for route in api_routes(app)
        if set(path_parameters(route.path)) & TENANT_SCOPED.keys()
        for method in route.methods
    )


async def test_every_route_with_a_path_parameter_is_in_the_matrix(app: FastAPI) -> None:
    routes = list(api_routes(app))
    assert len(routes) > 60  # derived from the app, not empty
    for route in routes:
        if not path_parameters(route.path) or route.path in UNSCOPED_ROUTES:
            continue
        names = set(path_parameters(route.path))
        unknown = names - TENANT_SCOPED.keys() - NOT_TENANT_SCOPED.keys()
        assert not unknown, f"{route.path}: no resource factory for {unknown} (tests/contract/seed.py)"
        assert names & TENANT_SCOPED.keys(), f"{route.path}: not tenant-scoped? list it in UNSCOPED_ROUTES"
    assert set(UNSCOPED_ROUTES) <= {r.path for r in routes}, "stale UNSCOPED_ROUTES"
    assert set(BODIES) <= {f"{m} {p}" for m, p in scoped_routes(app)}, "stale BODIES"


def _no_body(ids: Ids) -> dict[str, Any]:
    return {}


async def snapshot(sql: asyncpg.Connection) -> dict[str, tuple[int, str | None]]:
    state = {}
    for (table,) in await sql.fetch(_TABLES):
        row = await sql.fetchrow(
            f"select count(*), md5(string_agg(t::text, '' order by t::text)) from public.{table} t"
        )
        state[table] = (row[0], row[1])
    return state


async def test_no_member_reaches_another_clients_resources(
    app: FastAPI, client: httpx.AsyncClient, world: World, sql: asyncpg.Connection
) -> None:
    seeded = await seed(client, world)
    routes = scoped_routes(app)
    assert len(routes) > 40  # the matrix is derived, not empty
    before = await snapshot(sql)
    for method, path in routes:
        for intruder, owner in ((seeded.a.tenant.member, seeded.b), (seeded.b.tenant.member, seeded.a)):
            ids = {**seeded.shared, **owner.ids}
            url = fill(path, ids)
            body = BODIES.get(f"{method} {path}", _no_body)(ids)
            r = await client.request(method, url, headers=intruder.headers, **body)
            assert r.status_code in (403, 404), f"{method} {path} by {intruder.email}: {r.status_code} {r.text}"
        after = await snapshot(sql)
        changed = {t for t in before if before[t] != after[t]}
        assert not changed, f"{method} {path} changed {changed}"
