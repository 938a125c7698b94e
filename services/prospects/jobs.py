"""Queue handlers of the prospects module: the company lookup again, when it was down while the
prospect filled the pre-visio form (retried with the queue's backoff until it answers)."""

from __future__ import annotations

from uuid import UUID

from integrations.company_lookup import CompanyLookup
from services.core.queue import Job, JobContext, JobHandler
from services.prospects import previsio


async def lookup_company(ctx: JobContext, job: Job) -> None:
    client_id, siret = UUID(job.payload["client_id"]), str(job.payload["siret"])
    if not await previsio.lookup_again(ctx.db, ctx.resources.get(CompanyLookup), client_id, siret):
        raise RuntimeError("the company lookup is still unavailable")  # transient: retried with backoff


HANDLERS: dict[str, JobHandler] = {previsio.LOOKUP_JOB: lookup_company}
