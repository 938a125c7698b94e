"""The application factory and its lifespan: database, migrations, auth, integrations, scheduler and
job queue worker."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api import docs, problems
from api.middleware import RequestContext
from api.resources import open_resources, user_directory
from api.routers import ROUTERS, health
from api.routing import include_flat
from integrations.supabase_auth import SupabaseAuthClient
from services.core.auth import JwksCache, TokenVerifier
from services.core.db import Database
from services.core.embedded import start_embedded_postgres
from services.core.migrations import migrate
from services.core.queue import JobContext
from services.core.settings import Settings, get_settings
from services.core.worker import start_background
from services.documents.storage import build_storage
from services.events.broker import EventBroker

log = logging.getLogger("foxeo")

API_DESCRIPTION = """JSON backend of Foxeo's Hub, Lab and One dashboards.

Authenticate with a Supabase access token: `Authorization: Bearer <token>`. Errors are RFC 9457
problem documents (`application/problem+json`) with a stable `code`. Lists use keyset pagination:
pass the `next_cursor` of a page as `cursor` to get the next one."""


JSON_BODY_LIMIT = 1024 * 1024


def operation_id(route: APIRoute) -> str:
    """`{tag}-{name}`: stable ids for the generated TypeScript client."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with AsyncExitStack() as resources:  # closed in reverse order, also when start-up fails
        # First, so a storage misconfiguration fails before anything starts. Supabase Storage when
        # configured (FOXEO_STORAGE_BACKEND / SUPABASE_URL + SUPABASE_SECRET_KEY), otherwise a local
        # folder whose signed links api/routers/storage.py serves.
        app.state.storage = build_storage(settings)
        resources.push_async_callback(app.state.storage.aclose)
        dsn = settings.database_url or start_embedded_postgres(settings.data_dir)
        if settings.auto_migrate:
            await migrate(dsn)
        db = app.state.db = Database(dsn, pool_size=settings.db_pool_size)
        await db.open()
        resources.push_async_callback(db.close)

        shared = await open_resources(settings, db, resources)  # integration clients, for requests and jobs
        auth_client = shared.find(SupabaseAuthClient)
        jwt_secret = settings.jwt_secret()
        app.state.verifier = TokenVerifier(
            hs256_secret=jwt_secret,
            jwks=JwksCache(auth_client.fetch_jwks, ttl=settings.jwks_cache_seconds) if auth_client else None,
        )
        app.state.user_directory = user_directory(shared)
        app.state.job_context = JobContext(db, settings, shared)

        # One LISTEN connection per process fanning committed chat/notification events out to SSE streams.
        app.state.events = EventBroker(db, dsn)
        await app.state.events.start()
        resources.push_async_callback(app.state.events.stop)

        if settings.run_scheduler:  # periodic jobs and the queue worker, in this process
            await start_background(app.state.job_context, resources)
        # Everything built so far lives as long as the process: keep it out of the GC's generations so
        # full collections stop walking it on every request burst.
        gc.collect()
        gc.freeze()
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Foxeo API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        responses=problems.responses(500),
        docs_url=None,  # served by api/docs.py from local assets
        redoc_url=None,
        # OpenTelemetry hooks cost time on every request; enable them when an exporter is set up.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings or get_settings()
    problems.install(app)
    docs.install(app)
    include_flat(app, health.router, prefix="", max_body_size=None)
    for router in ROUTERS:
        # Bodies are read before authentication: bound them (a router may set its own limit, as
        # documents does for uploads). Set per router, not app-wide, so RequestContext sees the 413.
        include_flat(app, router, prefix="/api/v1", max_body_size=JSON_BODY_LIMIT)
    app.add_middleware(RequestContext)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                # Paths already carry /api/v1: the server is wherever this document was served from.
                servers=[{"url": "/", "description": "The server serving this document"}],
                license_info={"name": "Proprietary", "identifier": "LicenseRef-Foxeo-Proprietary"},
            )
            app.openapi_schema = problems.document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
