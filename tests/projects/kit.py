"""Arranging projects and journeys through the API, and the fixtures the projects, validations,
evolutions and lifecycle tests share (each of their conftest.py imports them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.conftest import User

API = "/api/v1"


class Projects:
    def __init__(self, http: httpx.AsyncClient, operator: User) -> None:
        self.http, self.operator = http, operator

    async def project(
        self, client_id: UUID | str, *, steps: Sequence[str] = ("Cadrage", "Identité", "Offre"), **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": str(client_id),
            "name": "Projet",
            "status": "active",
            "steps": [{"title": t, "client_role": f"Rôle {t}"} for t in steps],
            **fields,
        }
        r = await self.http.post(f"{API}/projects", json=body, headers=self.operator.headers)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    async def template(self, *, steps: Sequence[str] = ("Vision", "Marché", "Offre"), **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Parcours création",
            "description": "De l'idée au business",
            "steps": [{"title": t, "client_role": f"Tu prépares {t}", "duration_days": 7} for t in steps],
            **fields,
        }
        r = await self.http.post(f"{API}/journey-templates", json=body, headers=self.operator.headers)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    async def journey(
        self, client_id: UUID | str, template_id: UUID | str | None = None, **fields: Any
    ) -> dict[str, Any]:
        template_id = template_id or (await self.template())["id"]
        r = await self.http.post(
            f"{API}/clients/{client_id}/journeys",
            headers=self.operator.headers,
            json={"template_id": str(template_id), **fields},
        )
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created


@pytest.fixture
def pj(client: httpx.AsyncClient, operator: User) -> Projects:
    return Projects(client, operator)


@pytest.fixture
async def reachable_operator(sql: asyncpg.Connection, operator: User) -> User:
    """The operator as Supabase Auth knows them (app_metadata.role), so notify_operators finds them."""
    await sql.execute("""update auth.users set raw_app_meta_data = '{"role": "operator"}' where id = $1""", operator.id)
    return operator
