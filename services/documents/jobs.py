"""Background work of the documents module: sweeping uploads that were never confirmed."""

from __future__ import annotations

from services.core.db import ServiceSession
from services.core.jobs import PeriodicJob
from services.core.settings import get_settings
from services.documents.storage import build_storage
from services.documents.uploads import sweep_expired_uploads


async def sweep_uploads(session: ServiceSession) -> int:
    storage = build_storage(get_settings())
    try:
        return await sweep_expired_uploads(session, storage)
    finally:
        await storage.aclose()


JOBS: list[PeriodicJob] = [PeriodicJob("documents.sweep_expired_uploads", 900, sweep_uploads)]
