"""Demo data for the embedded default: an operator, a Lab client and a One client, each with a user."""

from __future__ import annotations

import uuid
from typing import Any, Literal
from uuid import UUID

import jwt

from services.clients.schemas import ClientCreate
from services.clients.service import create_client, find_client_by_company_and_tag
from services.core.auth import Principal, mint_token
from services.core.db import Database
from services.core.migrations import migrate
from services.core.settings import Settings
from services.demo import repository
from services.members.directory import EmbeddedDirectory
from services.members.schemas import MemberInvite
from services.members.service import invite_member

OPERATOR_EMAIL = "mikl@demo.foxeo.fr"
DEMO_CLIENTS: tuple[tuple[Literal["lab", "one"], str, str, str, str], ...] = (
    ("lab", "Atelier Lumière", "lea@demo.foxeo.fr", "Léa", "Martin"),
    ("one", "Boulangerie Dupont", "paul@demo.foxeo.fr", "Paul", "Dupont"),
)


async def ensure_auth_user(dsn: str, email: str, user_id: UUID | None = None, *, operator: bool = False) -> UUID:
    """The auth.users row for `email` (created if missing), as Supabase Auth would hold it."""
    await migrate(dsn)
    db = Database(dsn, pool_size=1)
    await db.open()
    try:
        async with db.service_session() as session:
            return await repository.upsert_auth_user(session, user_id or uuid.uuid4(), email, operator=operator)
    finally:
        await db.close()


async def seed_demo(dsn: str, settings: Settings) -> dict[str, dict[str, Any]]:
    """Idempotent: a second run finds the same users and clients and prints fresh tokens."""
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
                client_id = await find_client_by_company_and_tag(session, company, "demo")
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
