"""Where users come from: Supabase Auth's admin API when configured, auth.users directly when not.

A request never calls the vendor: `invite` answers from the database (an existing user, or the
embedded default's own auth.users row) or None, and the `members.invite` job then calls Supabase
Auth through `send_invite`, outside any transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from integrations.errors import RequestError
from integrations.supabase_auth import SupabaseAuthClient
from services.core.auth import mint_token
from services.core.db import Database
from services.core.errors import IntegrationNotConfigured
from services.members import repository


@dataclass(frozen=True)
class DirectoryUser:
    user_id: UUID
    invitation: Literal["supabase_email", "embedded"]
    dev_token: str | None = None


class UserDirectory(Protocol):
    async def invite(self, email: str) -> DirectoryUser | None:
        """The user for `email` now, or None when only the vendor can create them (a job will)."""


async def _existing_user(db: Database, email: str) -> UUID | None:
    async with db.service_session() as session:
        return await repository.find_auth_user(session, email)


class SupabaseDirectory:
    """Invites through `POST /auth/v1/invite`; an existing user is reused, not re-invited."""

    def __init__(
        self, db: Database, client: SupabaseAuthClient, *, can_invite: bool, redirect_to: str | None = None
    ) -> None:
        self._db, self._client, self._can_invite, self._redirect_to = db, client, can_invite, redirect_to

    async def invite(self, email: str) -> DirectoryUser | None:
        existing = await _existing_user(self._db, email)
        if existing is not None:
            return DirectoryUser(existing, "supabase_email")
        if not self._can_invite:  # refuse now rather than queue a job bound to fail
            raise IntegrationNotConfigured("Supabase Auth", "SUPABASE_SECRET_KEY")
        return None

    async def send_invite(self, email: str) -> UUID:
        """The vendor call (from the job): a user created by an earlier run is not invited twice."""
        existing = await _existing_user(self._db, email)
        if existing is not None:
            return existing
        try:
            user = await self._client.invite_user_by_email(email, redirect_to=self._redirect_to)
        except RequestError:
            existing = await _existing_user(self._db, email)  # a concurrent run invited them first
            if existing is None:
                raise
            return existing
        return user.id


class EmbeddedDirectory:
    """No Auth server: create the auth.users row ourselves and hand back a dev token."""

    def __init__(self, db: Database, jwt_secret: str) -> None:
        self._db, self._secret = db, jwt_secret

    async def invite(self, email: str) -> DirectoryUser:
        async with self._db.service_session() as session:
            user_id = await repository.upsert_invited_auth_user(session, uuid.uuid4(), email)
        return DirectoryUser(user_id, "embedded", mint_token(self._secret, user_id, email=email.lower()))
