"""The sync's health for the operator: per changelog, the last run, how far behind it is, the error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from services.billing.sync import repository
from services.billing.sync.schemas import SyncResourceName, SyncResourceStatus, SyncStatus
from services.core.db import UserSession
from services.core.settings import Settings


async def sync_status(session: UserSession, settings: Settings) -> SyncStatus:
    states = {row["resource"]: row for row in await repository.sync_states(session)}
    now = datetime.now(UTC)
    resources = []
    for name in get_args(SyncResourceName):
        row = states.get(name)
        cursor = row["cursor_at"] if row else None
        resources.append(
            SyncResourceStatus(
                resource=name, cursor_at=cursor,
                lag_seconds=None if cursor is None else max(0, int((now - cursor).total_seconds())),
                last_run_at=row["last_run_at"] if row else None,
                last_success_at=row["last_success_at"] if row else None,
                last_mode=row["last_mode"] if row else None, last_changes=row["last_changes"] if row else 0,
                last_error=row["last_error"] if row else None, last_error_at=row["last_error_at"] if row else None,
            )
        )  # fmt: skip
    return SyncStatus(
        configured=settings.pennylane_api_token is not None,
        interval_seconds=settings.billing_sync_interval_seconds,
        resources=resources,
    )
