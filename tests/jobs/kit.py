"""Helpers of the queue tests: a recording handler and a principal for a test user."""

from __future__ import annotations

import asyncio
import time

from services.core.auth import Principal
from services.core.queue import Job, JobContext
from services.core.worker import Worker
from tests.conftest import User

KIND = "tests.record"


class Recorder:
    """A handler that records each run and fails while `failures` lasts (or forever with `always`)."""

    def __init__(self) -> None:
        self.runs: list[Job] = []
        self.error: Exception | None = None
        self.delay = 0.0

    async def __call__(self, ctx: JobContext, job: Job) -> None:
        self.runs.append(job)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error

    def worker(self, ctx: JobContext, owner: str | None = None) -> Worker:
        return Worker(ctx, {KIND: self}, owner=owner)


def principal_of(user: User) -> Principal:
    app_metadata = {"provider": "email", **({"role": "operator"} if user.operator else {})}
    return Principal.from_claims(
        {
            "sub": str(user.id),
            "aud": "authenticated",
            "role": "authenticated",
            "email": user.email,
            "exp": int(time.time()) + 600,
            "app_metadata": app_metadata,
        }
    )
