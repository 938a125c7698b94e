"""Queue handlers of the transcripts module: Deepgram transcription of a filed recording, then the
LLM summary. Transient failures retry through the queue; the last failure marks the meeting's
transcription `failed` with its reason, visible in the meeting detail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from integrations.deepgram import DeepgramClient, TranscriptionAccepted
from integrations.errors import NotConfiguredError, RequestError
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError
from services.documents.storage import build_storage
from services.meetings import service as meetings
from services.meetings.service import TRANSCRIBE_JOB, RecordingFile
from services.transcripts import service
from services.transcripts.callback import callback_token
from services.transcripts.summary import SummaryModel, write_summary


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:4000]


async def _recording(ctx: JobContext, job: Job) -> RecordingFile:
    async with ctx.db.service_session() as session:
        recording = await meetings.recording_for_job(session, UUID(job.payload["recording_id"]))
    if recording is None:
        raise PermanentJobError("the recording no longer exists")
    return recording


async def _signed_url(ctx: JobContext, path: str) -> str:
    storage = build_storage(ctx.settings)
    try:
        link = await storage.create_signed_download(path, expires_in=ctx.settings.signed_url_ttl_seconds)
    finally:
        await storage.aclose()
    return link.url


async def _transcribe(ctx: JobContext, recording: RecordingFile) -> None:
    settings = ctx.settings
    async with ctx.db.service_session() as session:
        state = await service.begin(session, recording, settings.deepgram_language)
    if state.status == "done" or state.request_id:  # done, or Deepgram will call back
        return
    url = await _signed_url(ctx, recording.storage_path)
    deepgram = ctx.resources.get(DeepgramClient)
    model, language = settings.deepgram_model, settings.deepgram_language
    try:
        if (recording.duration_seconds or 0) > settings.deepgram_callback_threshold_seconds:
            token = callback_token(settings.signing_key(), state.id, settings.deepgram_callback_ttl_seconds)
            callback = f"{settings.public_base_url.rstrip('/')}/api/v1/webhooks/deepgram/{token}"
            accepted: TranscriptionAccepted = await deepgram.transcribe_url(
                url, model=model, language=language, callback_url=callback
            )
            async with ctx.db.service_session() as session:
                await service.awaiting_callback(session, state.id, accepted.request_id)
            return
        result = await deepgram.transcribe_url(url, model=model, language=language)
    except (NotConfiguredError, RequestError) as exc:  # retrying cannot help
        raise PermanentJobError(_describe(exc)) from exc
    async with ctx.db.service_session() as session:
        await service.store_result(session, state.id, result)


async def _failing_for_good(
    ctx: JobContext, job: Job, run: Callable[[], Awaitable[None]], on_final: Callable[[str], Awaitable[None]]
) -> None:
    """Run `run`; when this failure is the last (refused, or out of attempts), call `on_final` first."""
    try:
        await run()
    except PermanentJobError as exc:
        await on_final(str(exc))
        raise
    except Exception as exc:
        if job.attempts >= job.max_attempts:
            await on_final(_describe(exc))
        raise


async def transcribe(ctx: JobContext, job: Job) -> None:
    recording = await _recording(ctx, job)

    async def final(reason: str) -> None:
        async with ctx.db.service_session() as session:
            await service.fail(session, recording, reason)

    await _failing_for_good(ctx, job, lambda: _transcribe(ctx, recording), final)


async def summarize(ctx: JobContext, job: Job) -> None:
    transcript_id = UUID(job.payload["transcript_id"])
    async with ctx.db.service_session() as session:
        state = await service.load_state(session, transcript_id)
        segments = await service.segments_of(session, transcript_id)
    if state.summary_status != "none":
        return
    try:
        outcome = await write_summary(
            ctx.resources.get(SummaryModel).client, segments, max_tokens=ctx.settings.summary_max_tokens
        )
    except (NotConfiguredError, RequestError) as exc:
        raise PermanentJobError(_describe(exc)) from exc
    async with ctx.db.service_session() as session:
        await service.store_summary(session, transcript_id, outcome)


HANDLERS: dict[str, JobHandler] = {TRANSCRIBE_JOB: transcribe, service.SUMMARIZE_JOB: summarize}
