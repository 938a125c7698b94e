"""The demo's one query: an auth.users row as Supabase Auth would hold it (service session only)."""

from __future__ import annotations

from uuid import UUID

from services.core.db import ServiceSession

# The role lives in raw_app_meta_data, which only the service role may write: it is what makes the
# operator's tokens say app_metadata.role = "operator" on Supabase too.
_UPSERT_AUTH_USER = (
    "insert into auth.users (id, email, raw_app_meta_data, email_confirmed_at)"
    " values ($1, lower($2), $3::jsonb, now())"
    " on conflict (email) do update set raw_app_meta_data = excluded.raw_app_meta_data returning id"
)


async def upsert_auth_user(session: ServiceSession, user_id: UUID, email: str, *, operator: bool) -> UUID:
    app_metadata = '{"provider": "email", "role": "operator"}' if operator else '{"provider": "email"}'
    value: UUID = await session.fetchval(_UPSERT_AUTH_USER, user_id, email, app_metadata)
    return value
