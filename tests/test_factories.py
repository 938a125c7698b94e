"""The factories write rows the API reads as it reads its own: a factory drifting from the schema
(or from what the services expect of a row) fails here before it misleads another test."""

from __future__ import annotations

import asyncpg
import httpx

from tests.conftest import Tenant, User
from tests.factories import create_client, create_document, create_member, create_project, create_user


async def test_client_and_member_rows_are_what_the_api_shows(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User
) -> None:
    made = await create_client(sql, company_name="Gamma", status="one", tags=["vip"])
    owner = await create_member(sql, made.id, user=await create_user(sql, email="owner@example.com"), role="owner")
    detail = (await client.get(f"/api/v1/clients/{made.id}", headers=operator.headers)).json()
    assert (detail["company_name"], detail["status"], detail["tags"]) == ("Gamma", "one", ["vip"])
    config = (await client.get(f"/api/v1/clients/{made.id}/config", headers=operator.headers)).json()
    assert config["dashboard_type"] == "one" and config["active_modules"] == list(made.active_modules)
    members = (await client.get(f"/api/v1/clients/{made.id}/members", headers=operator.headers)).json()
    assert [(m["user_id"], m["role"]) for m in members] == [(str(owner.user.id), "owner")]


async def test_project_steps_keep_the_given_order(
    client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    project = await create_project(sql, tenant_a.id, steps=["Vision", "Offre", "Lancement"])
    assert [(s.position, s.title) for s in project.steps] == [(1, "Vision"), (2, "Offre"), (3, "Lancement")]
    r = await client.get(f"/api/v1/projects/{project.id}", headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text
    assert [(s["id"], s["title"]) for s in r.json()["steps"]] == [(str(s.id), s.title) for s in project.steps]


async def test_documents_respect_visibility_for_members(
    client: httpx.AsyncClient, sql: asyncpg.Connection, tenant_a: Tenant
) -> None:
    shared = await create_document(sql, tenant_a.id, title="Guide")
    await create_document(sql, tenant_a.id, title="Notes", visibility="internal")
    r = await client.get("/api/v1/documents", headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text
    assert [d["id"] for d in r.json()["items"]] == [str(shared.id)]
