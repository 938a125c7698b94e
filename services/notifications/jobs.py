"""Retention: read notifications are deleted after settings.notifications_retention_days."""

from __future__ import annotations

from services.core.db import ServiceSession
from services.core.jobs import PeriodicJob
from services.core.settings import get_settings
from services.notifications import service


async def purge_read_notifications(session: ServiceSession) -> int:
    return await service.purge_read(session, get_settings().notifications_retention_days)


JOBS = [PeriodicJob("notifications.purge_read", 6 * 3600, purge_read_notifications)]
