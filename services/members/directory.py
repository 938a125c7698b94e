"""Where users come from: Supabase Auth's admin API when configured, auth.users directly when not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from integrations.supabase_auth import SupabaseAuthClient
from services.core.auth import mint_token
from services.core.db import Database
from services.members import repository


@dataclass(frozen=True)
class DirectoryUser:
    user_id: UUID
    invitation: Literal["supabase_email", "embedded"]
    dev_token: str | None = None


class UserDirectory(Protocol):
    async def invite(self, email: str) -> DirectoryUser: ...


async def _existing_user(db: Database, email: str) -> UUID | None:
    async with db.service_session() as session:
        return await repository.find_auth_user(session, email)


class SupabaseDirectory:
    """Invites through `POST /auth/v1/invite`; an existing user is reused, not re-invited."""

    def __init__(self, db: Database, client: SupabaseAuthClient, redirect_to: str | None = None) -> None:
        self._db, self._client, self._redirect_to = db, client, redirect_to

    async def invite(self, email: str) -> DirectoryUser:
        existing = await _existing_user(self._db, email)
        if existing is not None:
            return DirectoryUser(existing, "supabase_email")
        user = await self._client.invite_user_by_email(email, redirect_to=self._redirect_to)
        return DirectoryUser(user.id, "supabase_email")


class EmbeddedDirectory:
    """No Auth server: create the auth.users row ourselves and hand back a dev token."""

    def __init__(self, db: Database, jwt_secret: str) -> None:
        self._db, self._secret = db, jwt_secret

    async def invite(self, email: str) -> DirectoryUser:
        async with self._db.service_session() as session:
            user_id = await repository.upsert_invited_auth_user(session, uuid.uuid4(), email)
        return DirectoryUser(user_id, "embedded", mint_token(self._secret, user_id, email=email.lower()))
