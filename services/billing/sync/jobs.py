"""Queue handlers and periodic jobs of the billing sync half (registered by services/billing/jobs.py).

The periodic jobs only get a service session: each enqueues one queue job per window (idempotency
key), and the handler does the work with the process's vendor clients from `JobContext.resources`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from integrations.pennylane import PennylaneClient
from integrations.pennylane.changelogs import PennylaneChangelogs
from services.billing import exports, payment_reminders
from services.billing.stripe_links import PAYMENT_LINK_JOB, make_payment_link
from services.billing.sync.loop import PennylaneSync
from services.billing.sync.mirror import CoreMirror
from services.core import queue
from services.core.db import ServiceSession
from services.core.jobs import PeriodicJob
from services.core.queue import Job, JobContext, JobHandler
from services.core.settings import get_settings

SYNC_JOB = "billing.sync"
REMINDERS_JOB = "billing.payment_reminders"


def _window(seconds: int) -> int:
    return int(time.time()) // seconds


async def enqueue_sync(session: ServiceSession) -> object:
    """Every interval: one sync job per window (a replica or a retry finds the key taken)."""
    settings = get_settings()
    if settings.pennylane_api_token is None:
        return "pennylane not configured"
    interval = settings.billing_sync_interval_seconds
    return await queue.enqueue(session, SYNC_JOB, {}, idempotency_key=f"{SYNC_JOB}:{_window(interval)}")


async def run_sync(ctx: JobContext, job: Job) -> None:
    changelogs = PennylaneChangelogs(ctx.resources.get(PennylaneClient))
    await PennylaneSync(ctx.db, changelogs, CoreMirror()).run()


async def enqueue_reminders(session: ServiceSession) -> object:
    """Once a day (Paris business day), the reminder pass."""
    return await queue.enqueue(
        session, REMINDERS_JOB, {}, idempotency_key=f"{REMINDERS_JOB}:{datetime.now(UTC):%Y-%m-%d}"
    )


async def run_reminders(ctx: JobContext, job: Job) -> None:
    async with ctx.db.service_session() as session:
        await payment_reminders.send_due(session, ctx.settings)


JOBS: list[PeriodicJob] = [
    PeriodicJob(SYNC_JOB, get_settings().billing_sync_interval_seconds, enqueue_sync),
    PeriodicJob(REMINDERS_JOB, 3600, enqueue_reminders),
]

HANDLERS: dict[str, JobHandler] = {
    SYNC_JOB: run_sync,
    REMINDERS_JOB: run_reminders,
    PAYMENT_LINK_JOB: make_payment_link,
    exports.EXPORT_JOB: exports.run_export,
}
