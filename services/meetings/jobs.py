"""Queue handlers of the meetings module: the vendor calls a request decided (rooms, recordings) and
filing a finished recording as a document. Each is idempotent: a lease can expire under a run."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from integrations.errors import NotConfiguredError, RequestError
from integrations.livekit import LiveKitClient, S3Storage
from services.core import queue
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError
from services.core.settings import Settings
from services.documents import service as documents
from services.documents.storage import build_storage
from services.meetings import service
from services.meetings.service import RECORDING_FILE_NAME, TRANSCRIBE_JOB, RecordingFile


def _egress_storage(settings: Settings) -> S3Storage:
    if not (
        settings.livekit_egress_s3_endpoint
        and settings.livekit_egress_s3_access_key
        and settings.livekit_egress_s3_secret
    ):
        raise PermanentJobError("recording storage is not configured: set LIVEKIT_EGRESS_S3_*")
    return S3Storage(
        endpoint=settings.livekit_egress_s3_endpoint,
        region=settings.livekit_egress_s3_region,
        bucket=settings.storage_bucket,
        access_key=settings.livekit_egress_s3_access_key,
        secret=settings.livekit_egress_s3_secret.get_secret_value(),
    )


async def _recording(ctx: JobContext, job: Job) -> RecordingFile:
    async with ctx.db.service_session() as session:
        recording = await service.recording_for_job(session, UUID(job.payload["recording_id"]))
    if recording is None:
        raise PermanentJobError("the recording no longer exists")
    return recording


async def create_room(ctx: JobContext, job: Job) -> None:
    """Create the room with our timeouts (LiveKit's CreateRoom is idempotent on the name)."""
    async with ctx.db.service_session() as session:
        meeting = await service.meeting_for_job(session, UUID(job.payload["meeting_id"]))
    if meeting is None or meeting.status in service.CLOSED:
        return
    try:
        await ctx.resources.get(LiveKitClient).create_room(meeting.room_name, metadata={"meeting_id": str(meeting.id)})
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(str(exc)) from exc


async def start_recording(ctx: JobContext, job: Job) -> None:
    recording = await _recording(ctx, job)
    if recording.egress_id is not None or recording.status != "starting":
        return  # an earlier run started it (or it was stopped before the recorder started)
    async with ctx.db.service_session() as session:
        meeting = await service.meeting_for_job(session, recording.meeting_id)
    assert meeting is not None  # a recording is deleted with its meeting
    try:
        egress = await ctx.resources.get(LiveKitClient).start_recording(
            meeting.room_name, _egress_storage(ctx.settings), filepath=recording.storage_path, file_type="mp4"
        )
    except (NotConfiguredError, RequestError) as exc:
        async with ctx.db.service_session() as session:
            await service.update_recording(session, recording.id, {"status": "failed", "error": str(exc)[:4000]})
        raise PermanentJobError(str(exc)) from exc
    async with ctx.db.service_session() as session:
        await service.update_recording(session, recording.id, {"egress_id": egress.egress_id})


async def stop_recording(ctx: JobContext, job: Job) -> None:
    recording = await _recording(ctx, job)
    if recording.status != "stopping":
        return
    if recording.egress_id is None:
        raise RuntimeError("the recorder has not started yet: retry once it has")
    try:
        await ctx.resources.get(LiveKitClient).stop_recording(recording.egress_id)
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(str(exc)) from exc


async def _sha256(ctx: JobContext, path: str) -> tuple[str, int]:
    storage = build_storage(ctx.settings)
    try:
        if await storage.info(path) is None:
            raise RuntimeError(f"the recording is not in storage yet: {path}")  # the upload may lag: retry
        digest, size = hashlib.sha256(), 0
        async for chunk in storage.stream(path):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size
    finally:
        await storage.aclose()


async def file_recording(ctx: JobContext, job: Job) -> None:
    """The finished recording becomes an internal document of source `meeting`, then transcription."""
    recording = await _recording(ctx, job)
    sha256, size = await _sha256(ctx, recording.storage_path)
    async with ctx.db.service_session() as session:
        meeting = await service.meeting_for_job(session, recording.meeting_id)
        assert meeting is not None
        values: dict[str, Any] = {
            "client_id": recording.client_id, "project_id": meeting.project_id, "phase": recording.phase,
            "title": f"Enregistrement — {meeting.title or 'réunion'}"[:200], "created_by": recording.created_by,
        }  # fmt: skip
        version = {
            "storage_path": recording.storage_path, "file_name": RECORDING_FILE_NAME, "size_bytes": size,
            "mime_type": "video/mp4", "sha256": sha256, "uploaded_by": recording.created_by,
        }  # fmt: skip
        document = await documents.file_meeting_recording(session, recording.id, values, version)
        await service.update_recording(session, recording.id, {"document_id": document.id, "size_bytes": size})
        await queue.enqueue(
            session, TRANSCRIBE_JOB, {"recording_id": str(recording.id)},
            idempotency_key=f"{TRANSCRIBE_JOB}:{recording.egress_id}", client_id=recording.client_id,
        )  # fmt: skip


HANDLERS: dict[str, JobHandler] = {
    service.CREATE_ROOM_JOB: create_room,
    service.START_RECORDING_JOB: start_recording,
    service.STOP_RECORDING_JOB: stop_recording,
    service.FILE_RECORDING_JOB: file_recording,
}
