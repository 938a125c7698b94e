"""The integration clients a process holds for its lifetime, shared by request handlers and queue
handlers: built once by the lifespan (`foxeo serve`) or the worker command (`foxeo worker`)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from integrations.calcom import CalcomClient
from integrations.company_lookup import CompanyLookup
from integrations.deepgram import DeepgramClient
from integrations.livekit import LiveKitClient
from integrations.pennylane import PennylaneClient
from integrations.stripe_payments import StripePayments
from integrations.supabase_auth import SupabaseAuthClient
from services.core.db import Database
from services.core.queue import Resources
from services.core.settings import Settings
from services.members.directory import EmbeddedDirectory, SupabaseDirectory, UserDirectory
from services.transcripts.summary import SummaryModel, summary_model


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
    _meeting_vendors(settings, stack, resources)
    _billing_vendors(settings, stack, resources)
    _agenda_vendors(settings, stack, resources)
    return resources


def _agenda_vendors(settings: Settings, stack: AsyncExitStack, resources: Resources) -> None:
    """Cal.com (calls need CALCOM_API_KEY: NotConfiguredError otherwise) and the company lookup (INSEE
    with INSEE_API_KEY, recherche-entreprises without a key)."""
    calcom_key = settings.calcom_api_key.get_secret_value() if settings.calcom_api_key else None
    calcom = CalcomClient(calcom_key)
    stack.push_async_callback(calcom.aclose)
    resources.provide(CalcomClient, calcom)
    insee_key = settings.insee_api_key.get_secret_value() if settings.insee_api_key else None
    lookup = CompanyLookup(insee_key)
    stack.push_async_callback(lookup.aclose)
    resources.provide(CompanyLookup, lookup)


def _meeting_vendors(settings: Settings, stack: AsyncExitStack, resources: Resources) -> None:
    """Always provided: without credentials their calls raise NotConfiguredError (→ 503 naming it)."""
    secret = settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else None
    livekit = LiveKitClient(settings.livekit_url, settings.livekit_api_key, secret)
    stack.push_async_callback(livekit.aclose)
    resources.provide(LiveKitClient, livekit)
    deepgram_key = settings.deepgram_api_key.get_secret_value() if settings.deepgram_api_key else None
    deepgram = DeepgramClient(deepgram_key)
    stack.push_async_callback(deepgram.aclose)
    resources.provide(DeepgramClient, deepgram)
    summaries = summary_model(settings)
    stack.push_async_callback(summaries.client.aclose)
    resources.provide(SummaryModel, summaries)


def _billing_vendors(settings: Settings, stack: AsyncExitStack, resources: Resources) -> None:
    """Always provided: without credentials their calls raise NotConfiguredError (routes answer 503 first)."""
    token = settings.pennylane_api_token.get_secret_value() if settings.pennylane_api_token else None
    pennylane = PennylaneClient(token)
    stack.push_async_callback(pennylane.aclose)
    resources.provide(PennylaneClient, pennylane)
    secret = settings.stripe_secret_key.get_secret_value() if settings.stripe_secret_key else None
    hook_secret = settings.stripe_webhook_secret.get_secret_value() if settings.stripe_webhook_secret else None
    stripe = StripePayments(secret, hook_secret)
    stack.push_async_callback(stripe.aclose)
    resources.provide(StripePayments, stripe)


def user_directory(resources: Resources) -> UserDirectory | None:
    return resources.find(SupabaseDirectory) or resources.find(EmbeddedDirectory)
