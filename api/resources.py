"""The integration clients a process holds for its lifetime, shared by request handlers and queue
handlers: built once by the lifespan (`foxeo serve`) or the worker command (`foxeo worker`)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from integrations.supabase_auth import SupabaseAuthClient
from services.core.db import Database
from services.core.queue import Resources
from services.core.settings import Settings
from services.members.directory import EmbeddedDirectory, SupabaseDirectory, UserDirectory


async def open_resources(settings: Settings, db: Database, stack: AsyncExitStack) -> Resources:
    """Each client closed with `stack`. A handler asks `ctx.resources.get(SomeClient)`."""
    resources = Resources()
    if settings.supabase_url:
        secret_key = settings.supabase_secret_key.get_secret_value() if settings.supabase_secret_key else None
        auth_client = SupabaseAuthClient(settings.supabase_url, secret_key)
        stack.push_async_callback(auth_client.aclose)
        resources.provide(SupabaseAuthClient, auth_client)
        resources.provide(SupabaseDirectory, SupabaseDirectory(db, auth_client, can_invite=secret_key is not None))
    elif jwt_secret := settings.jwt_secret():
        resources.provide(EmbeddedDirectory, EmbeddedDirectory(db, jwt_secret))
    return resources


def user_directory(resources: Resources) -> UserDirectory | None:
    return resources.find(SupabaseDirectory) or resources.find(EmbeddedDirectory)
