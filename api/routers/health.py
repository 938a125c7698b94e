"""Liveness and readiness probes."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.problems import responses
from services.core.errors import ServiceUnavailable
from services.core.migrations import MigrationError, pending

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str


class ReadyRead(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/health", response_model=HealthRead)
async def health() -> HealthRead:
    """The process is up (no dependency is checked)."""
    return HealthRead(status="ok")


@router.get("/ready", response_model=ReadyRead, responses=responses(503))
async def ready(request: Request) -> ReadyRead:
    """The database is reachable and every migration is applied."""
    try:
        async with request.app.state.db.pool.acquire(timeout=2) as conn:
            waiting = await pending(conn)
    except MigrationError as exc:
        raise ServiceUnavailable(str(exc)) from None
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ServiceUnavailable(f"database unreachable: {exc.__class__.__name__}") from None
    if waiting:
        raise ServiceUnavailable(f"migrations not applied: {', '.join(waiting)}")
    return ReadyRead(status="ready", database="ok", migrations="current")
