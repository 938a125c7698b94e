from __future__ import annotations

from uuid import UUID

import asyncpg

from services.core.db import AnySession, ServiceSession

COLUMNS = "client_id, user_id, email, role, invited_by, created_at"


async def list_for_client(session: AnySession, client_id: UUID) -> list[asyncpg.Record]:
    return await session.fetch(
        f"select {COLUMNS} from public.client_members where client_id = $1 order by created_at, user_id", client_id
    )


async def insert(
    session: AnySession, client_id: UUID, user_id: UUID, email: str, role: str, invited_by: UUID | None
) -> asyncpg.Record | None:
    """The new membership, or None when the user is already a member."""
    return await session.fetchrow(
        f"insert into public.client_members (client_id, user_id, email, role, invited_by)"
        f" values ($1, $2, lower($3), $4, $5) on conflict do nothing returning {COLUMNS}",
        client_id,
        user_id,
        email,
        role,
        invited_by,
    )


async def delete(session: AnySession, client_id: UUID, user_id: UUID) -> asyncpg.Record | None:
    return await session.fetchrow(
        f"delete from public.client_members where client_id = $1 and user_id = $2 returning {COLUMNS}",
        client_id,
        user_id,
    )


# auth.users belongs to Supabase Auth: read and written only from a service session.


async def find_auth_user(session: ServiceSession, email: str) -> UUID | None:
    value: UUID | None = await session.fetchval(
        "select id from auth.users where lower(email) = lower($1) and deleted_at is null", email
    )
    return value


async def upsert_invited_auth_user(session: ServiceSession, user_id: UUID, email: str) -> UUID:
    """The embedded default's stand-in for Supabase's invite: the user row, created once."""
    value: UUID = await session.fetchval(
        "insert into auth.users (id, email, invited_at) values ($1, lower($2), now())"
        " on conflict (email) do update set updated_at = now() returning id",
        user_id,
        email,
    )
    return value
