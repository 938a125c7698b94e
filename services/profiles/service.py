"""The signed-in user's own profile and preferences."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from services.audit import service as audit
from services.core.db import UserSession
from services.core.errors import Unprocessable
from services.profiles import repository
from services.profiles.errors import ProfileNotFound
from services.profiles.schemas import (
    NotificationPrefs,
    Onboarding,
    ProfileRead,
    ProfileUpdate,
    QuietHours,
)

_NESTED: dict[str, type[BaseModel]] = {
    "notification_prefs": NotificationPrefs,
    "quiet_hours": QuietHours,
    "onboarding": Onboarding,
}


def _stored(model: type[BaseModel], raw: Any) -> BaseModel:
    """Stored preferences over the defaults. The row is also writable outside the API (supabase-js
    under RLS): what does not validate reads as the defaults rather than turning /me into a 500."""
    if isinstance(raw, dict):
        try:
            return model.model_validate(_merge(model().model_dump(), raw))
        except (ValueError, TypeError):  # ValidationError, or a stored shape _merge cannot walk
            pass
    return model()


def _read(session: UserSession, row: asyncpg.Record) -> ProfileRead:
    principal = session.principal
    values = dict(row)
    for field, model in _NESTED.items():
        values[field] = _stored(model, values[field])
    return ProfileRead(**values, email=principal.email, is_operator=principal.is_operator)


async def _own_row(session: UserSession, *, for_update: bool = False) -> asyncpg.Record:
    row = await repository.get_own(session, for_update=for_update)
    if row is None:
        # The process may have ensured the profile before the auth user existed.
        await repository.ensure_own(session)
        row = await repository.get_own(session, for_update=for_update)
    if row is None:
        raise ProfileNotFound("this token's user does not exist in auth.users")
    return row


async def get_me(session: UserSession) -> ProfileRead:
    return _read(session, await _own_row(session))


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        merged[key] = _merge(merged.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


def _validated(field: str, model: type[BaseModel], merged: dict[str, Any]) -> dict[str, Any]:
    """The merged document is what is stored: refusing it is the caller's bad input (a 422 naming
    the field), never a 500, even for a combination the update schema let through."""
    try:
        return model.model_validate(merged).model_dump()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join([field, *(str(p) for p in error["loc"])])
        raise Unprocessable(f"{name}: {error['msg']}", field=name) from None


async def update_me(session: UserSession, data: ProfileUpdate) -> ProfileRead:
    before = _read(session, await _own_row(session, for_update=True))
    changes = data.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    for field in ("display_name", "avatar_url", "locale", "theme"):
        if field in changes:
            values[field] = changes[field]
    for field, model in _NESTED.items():
        if changes.get(field):
            merged = _merge(getattr(before, field).model_dump(), changes[field])
            if field == "quiet_hours" and merged["start"] == merged["end"]:
                raise Unprocessable("quiet hours start and end must differ", field="quiet_hours")
            values[field] = _validated(field, model, merged)
    if not values:
        return before
    after = _read(session, await repository.update_own(session, values))
    await audit.record(
        session,
        action="profile.updated",
        entity_type="profile",
        entity_id=after.user_id,
        client_id=None,
        before=before,
        after=after,
    )
    return after
