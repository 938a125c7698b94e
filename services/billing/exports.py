"""Accounting exports for the operator: the FEC of a period through Pennylane's export API, run as a
queue job (create, poll until ready, file the result in storage), then downloaded by a signed link."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from integrations.errors import NotConfiguredError, RequestError
from integrations.pennylane import PennylaneClient
from integrations.pennylane.exports import PennylaneExports
from integrations.storage import ObjectExists
from services.audit import service as audit
from services.billing.sync import repository
from services.billing.sync.errors import ExportNotFound, ExportNotReady, InvalidPeriod
from services.billing.sync.schemas import ExportCreate, ExportDownload, ExportRead
from services.core import queue
from services.core.db import UserSession
from services.core.errors import IntegrationNotConfigured
from services.core.pagination import Page, next_page
from services.core.queue import Job, JobContext, PermanentJobError
from services.core.settings import Settings
from services.documents.storage import build_storage
from services.notifications import service as notifications

EXPORT_JOB = "billing.export_fec"
POLL_EVERY = timedelta(seconds=20)
GIVE_UP_AFTER = timedelta(hours=1)
MAX_BYTES = 200 * 1024 * 1024


def _read(row: Any) -> ExportRead:
    return ExportRead.model_validate(dict(row))


def file_name(row: Any) -> str:
    return f"FEC_{row['period_start']:%Y%m%d}_{row['period_end']:%Y%m%d}.txt"


async def request_fec(session: UserSession, settings: Settings, data: ExportCreate) -> ExportRead:
    if data.period_end < data.period_start:
        raise InvalidPeriod("period_end is before period_start", field="period_end")
    if (data.period_end - data.period_start).days > 366:
        raise InvalidPeriod("a FEC covers one fiscal year at most", field="period_end")
    if settings.pennylane_api_token is None:
        raise IntegrationNotConfigured("pennylane", "PENNYLANE_API_TOKEN")
    row = await repository.insert_export(
        session, period_start=data.period_start, period_end=data.period_end, requested_by=session.principal.user_id
    )
    await audit.record(session, action="billing.export_requested", entity_type="billing_export",
                       entity_id=row["id"], client_id=None, after=_read(row))  # fmt: skip
    await queue.enqueue(session, EXPORT_JOB, {"export_id": str(row["id"])}, idempotency_key=f"{EXPORT_JOB}:{row['id']}")
    return _read(row)


async def list_exports(session: UserSession, cursor: str | None, limit: int) -> Page[ExportRead]:
    rows = await repository.list_exports(session, cursor, limit)
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    return Page[ExportRead](items=[_read(row) for row in page], next_cursor=next_cursor)


async def get_export(session: UserSession, export_id: UUID) -> ExportRead:
    row = await repository.export(session, export_id)
    if row is None:
        raise ExportNotFound("no such export")
    return _read(row)


async def download_link(session: UserSession, settings: Settings, export_id: UUID) -> ExportDownload:
    row = await repository.export(session, export_id)
    if row is None:
        raise ExportNotFound("no such export")
    if row["status"] != "ready":
        raise ExportNotReady(f"the export is {row['status']}")
    storage = build_storage(settings)
    try:
        link = await storage.create_signed_download(
            row["storage_path"], expires_in=settings.signed_url_ttl_seconds, download_name=file_name(row)
        )
    finally:
        await storage.aclose()
    return ExportDownload(url=link.url, expires_at=link.expires_at, file_name=file_name(row))


async def run_export(ctx: JobContext, job: Job) -> None:
    """Queue handler: one step of the export (create, or poll, or file the result)."""
    export_id = UUID(job.payload["export_id"])
    async with ctx.db.service_session() as session:
        row = await repository.export(session, export_id)
    if row is None or row["status"] in ("ready", "failed"):
        return
    exports = PennylaneExports(ctx.resources.get(PennylaneClient))
    try:
        if row["pennylane_export_id"] is None:
            created = await exports.create_fec(row["period_start"], row["period_end"])
            row = await _update(ctx, export_id, {"pennylane_export_id": created.id, "status": "pending"})
        remote = await exports.get_fec(row["pennylane_export_id"])
    except (NotConfiguredError, RequestError) as exc:
        await _finish(ctx, export_id, {"status": "failed", "error": str(exc)[:4000]}, "Export FEC en échec")
        raise PermanentJobError(str(exc)) from exc
    if remote.failed or (not remote.ready and datetime.now(UTC) - row["created_at"] > GIVE_UP_AFTER):
        error = f"Pennylane export {remote.id} is {remote.status}"
        await _finish(ctx, export_id, {"status": "failed", "error": error}, "Export FEC en échec")
        return
    if not remote.ready:
        async with ctx.db.service_session() as session:
            poll = int(job.payload.get("poll", 0)) + 1
            await queue.enqueue(session, EXPORT_JOB, {"export_id": str(export_id), "poll": poll},
                                idempotency_key=f"{EXPORT_JOB}:{export_id}:{poll}",
                                run_after=datetime.now(UTC) + POLL_EVERY)  # fmt: skip
        return
    chunks, size = [], 0
    async for chunk in exports.download(remote):
        size += len(chunk)
        if size > MAX_BYTES:
            raise PermanentJobError(f"the FEC file is larger than {MAX_BYTES} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    path = f"billing/exports/{export_id}/{file_name(row)}"
    storage = build_storage(ctx.settings)
    try:
        await storage.put(path, data, content_type="text/plain")
    except ObjectExists:
        pass  # an earlier run stored it and stopped before recording it: same export, same bytes
    finally:
        await storage.aclose()
    values = {"status": "ready", "storage_path": path, "size_bytes": size, "sha256": hashlib.sha256(data).hexdigest()}
    await _finish(ctx, export_id, values, "Export FEC prêt")


async def _update(ctx: JobContext, export_id: UUID, values: dict[str, Any]) -> Any:
    async with ctx.db.service_session() as session:
        return await repository.update_export(session, export_id, values)


async def _finish(ctx: JobContext, export_id: UUID, values: dict[str, Any], title: str) -> None:
    async with ctx.db.service_session() as session:
        row = await repository.update_export(session, export_id, values)
        await notifications.notify_operators(
            session, source="system", title=f"{title} ({row['period_start']} → {row['period_end']})",
            body=values.get("error"), entity_type="billing_export", entity_id=str(export_id),
        )  # fmt: skip
