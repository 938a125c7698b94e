"""Demo data for the embedded default: an operator, a Lab client and a One client, each with a user."""

from __future__ import annotations

import uuid
from typing import Any, Literal
from uuid import UUID

import asyncpg
import jwt

from services.core.auth import Principal, mint_token
from services.core.db import Database
from services.core.migrations import migrate
from services.core.settings import Settings

OPERATOR_EMAIL = "mikl@demo.foxeo.fr"
DEMO_CLIENTS: tuple[tuple[Literal["lab", "one"], str, str, str, str], ...] = (
    ("lab", "Atelier Lumière", "lea@demo.foxeo.fr", "Léa", "Martin"),
    ("one", "Boulangerie Dupont", "paul@demo.foxeo.fr", "Paul", "Dupont"),
)


async def ensure_auth_user(dsn: str, email: str, user_id: UUID | None = None, *, operator: bool = False) -> UUID:
    """The auth.users row for `email` (created if missing), as Supabase Auth would hold it."""
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        app_metadata = '{"provider": "email", "role": "operator"}' if operator else '{"provider": "email"}'
        found: UUID = await conn.fetchval(
            "insert into auth.users (id, email, raw_app_meta_data, email_confirmed_at)"
            " values ($1, lower($2), $3::jsonb, now())"
            " on conflict (email) do update set raw_app_meta_data = excluded.raw_app_meta_data returning id",
            user_id or uuid.uuid4(),
            email,
            app_metadata,
        )
        return found
    finally:
        await conn.close()


async def seed_demo(dsn: str, settings: Settings) -> dict[str, dict[str, Any]]:
    """Idempotent: a second run finds the same users and clients and prints fresh tokens."""
    from services.clients import repository as clients_repository
    from services.clients.schemas import ClientCreate
    from services.clients.service import create_client
    from services.members.directory import EmbeddedDirectory
    from services.members.schemas import MemberInvite
    from services.members.service import invite_member

    secret = settings.jwt_secret()
    if secret is None:
        raise RuntimeError("--demo needs the embedded default or SUPABASE_JWT_SECRET")
    operator_id = await ensure_auth_user(dsn, OPERATOR_EMAIL, operator=True)
    operator_token = mint_token(secret, operator_id, email=OPERATOR_EMAIL, operator=True)
    tokens: dict[str, dict[str, Any]] = {"operator": {"email": OPERATOR_EMAIL, "token": operator_token}}
    db = Database(dsn, pool_size=2)
    await db.open()
    try:
        claims = jwt.decode(operator_token, secret, algorithms=["HS256"], audience="authenticated")
        principal = Principal.from_claims(claims)
        directory = EmbeddedDirectory(db, secret)
        for status, company, email, first, last in DEMO_CLIENTS:
            async with db.user_session(principal) as session:
                client_id = await clients_repository.find_by_company_and_tag(session, company, "demo")
                if client_id is None:
                    client = await create_client(
                        session,
                        ClientCreate(
                            company_name=company,
                            status=status,
                            contact_first_name=first,
                            contact_last_name=last,
                            email=email,
                            city="Lyon",
                            tags=["demo"],
                        ),
                    )
                    client_id = client.id
                    invited = await invite_member(
                        session, client_id, MemberInvite(email=email, role="owner"), directory
                    )
                    token = invited.dev_token
                else:
                    user = await directory.invite(email)
                    token = user.dev_token
            tokens[status] = {"email": email, "token": token, "client_id": str(client_id)}
    finally:
        await db.close()
    return tokens
