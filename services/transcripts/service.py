"""Transcripts of recorded Hub meetings: the job's steps (start, store Deepgram's result, fail), the
summary, and the operator's reading and acceptance of action items."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from integrations.deepgram import Transcript
from services.audit import service as audit
from services.core import queue
from services.core.db import AnySession, UserSession
from services.documents import service as documents
from services.meetings import service as meetings
from services.meetings.service import RecordingFile
from services.notifications import service as notifications
from services.projects import service as projects
from services.projects import steps, tasks
from services.projects.schemas import StepCreate, TaskCreate
from services.transcripts import repository
from services.transcripts.errors import (
    ActionItemAlreadyAccepted,
    ActionItemInvalid,
    SummaryMissing,
    TranscriptNotFound,
)
from services.transcripts.schemas import (
    AcceptActionItems,
    AcceptedItems,
    SegmentRead,
    Summary,
    TranscriptDetail,
    TranscriptRead,
)
from services.transcripts.summary import SummaryOutcome

SUMMARIZE_JOB = "transcripts.summarize"


class TranscriptState(TranscriptRead):
    request_id: str | None
    text: str


async def begin(session: AnySession, recording: RecordingFile, language: str) -> TranscriptState:
    """The recording's transcript (created on first run), and the meeting marked `processing`."""
    row = await repository.ensure_for_recording(
        session, client_id=recording.client_id, meeting_id=recording.meeting_id, recording_id=recording.id,
        language=language,
    )  # fmt: skip
    state = TranscriptState(**dict(row))
    if state.status != "done":
        await meetings.set_transcription_status(session, recording.meeting_id, "processing")
    return state


async def awaiting_callback(session: AnySession, transcript_id: UUID, request_id: str) -> None:
    await repository.update_transcript(session, transcript_id, {"request_id": request_id})


async def load_state(session: AnySession, transcript_id: UUID) -> TranscriptState:
    row = await repository.get(session, transcript_id, for_update=True)
    if row is None:
        raise TranscriptNotFound()
    return TranscriptState(**dict(row))


async def store_result(session: AnySession, transcript_id: UUID, result: Transcript) -> TranscriptRead | None:
    """Deepgram's transcript, split into speaker segments; then the summary job and the operator's
    notification. None when it was already stored (a redelivered callback)."""
    before = await load_state(session, transcript_id)
    if before.status == "done":
        return None
    rows = [(s.speaker, s.start, max(s.end, s.start), s.text) for s in result.segments if s.text]
    await repository.replace_segments(session, before.client_id, transcript_id, rows)
    values: dict[str, Any] = {
        "status": "done", "text": result.transcript, "duration_seconds": result.duration,
        "language": result.detected_language or before.language,
    }  # fmt: skip
    after = TranscriptRead(**dict(await repository.update_transcript(session, transcript_id, values)))
    meeting = await meetings.set_transcription_status(session, after.meeting_id, "done")
    await queue.enqueue(
        session, SUMMARIZE_JOB, {"transcript_id": str(transcript_id)},
        idempotency_key=f"{SUMMARIZE_JOB}:{transcript_id}", client_id=after.client_id,
    )  # fmt: skip
    await notifications.notify_operators(
        session, source="system", title="Transcription prête", body=meeting.title or None,
        link=f"/meetings/{meeting.id}", entity_type="transcript", entity_id=str(transcript_id),
        client_id=after.client_id,
    )  # fmt: skip
    await audit.record(
        session, action="transcript.done", entity_type="transcript", entity_id=transcript_id,
        client_id=after.client_id, after=after,
    )  # fmt: skip
    return after


async def fail(session: AnySession, recording: RecordingFile, reason: str) -> None:
    """The transcription will not happen: the meeting says so, with the reason (never lost silently)."""
    row = await repository.ensure_for_recording(
        session, client_id=recording.client_id, meeting_id=recording.meeting_id, recording_id=recording.id,
        language="fr",
    )  # fmt: skip
    if row["status"] != "done":
        await repository.update_transcript(session, row["id"], {"status": "failed"})
        await meetings.set_transcription_status(session, recording.meeting_id, "failed", error=reason)


async def segments_of(session: AnySession, transcript_id: UUID) -> list[SegmentRead]:
    return [SegmentRead(**dict(r)) for r in await repository.segments(session, transcript_id)]


async def store_summary(session: AnySession, transcript_id: UUID, outcome: SummaryOutcome) -> TranscriptRead:
    values: dict[str, Any] = (
        {"summary_status": "done", "summary": outcome.summary.model_dump(mode="json")}
        if outcome.summary is not None
        else {"summary_status": "flagged", "summary_raw": outcome.raw[:200000]}
    )
    after = TranscriptRead(**dict(await repository.update_transcript(session, transcript_id, values)))
    await audit.record(
        session, action=f"transcript.summary_{after.summary_status}", entity_type="transcript",
        entity_id=transcript_id, client_id=after.client_id, after=after,
    )  # fmt: skip
    return after


# ---------------------------------------------------------------- the operator's side


async def list_for_meeting(session: UserSession, meeting_id: UUID) -> list[TranscriptRead]:
    await meetings.load(session, meeting_id)
    return [TranscriptRead(**dict(r)) for r in await repository.of_meeting(session, meeting_id)]


async def get_transcript(session: UserSession, transcript_id: UUID) -> TranscriptDetail:
    row = await repository.get(session, transcript_id)
    if row is None:
        raise TranscriptNotFound()
    state = TranscriptState(**dict(row))
    return TranscriptDetail(
        **state.model_dump(exclude={"request_id"}), segments=await segments_of(session, transcript_id)
    )


async def accept_action_items(session: UserSession, transcript_id: UUID, data: AcceptActionItems) -> AcceptedItems:
    """Chosen action items become the project's tasks, or for a Lab client its journey steps or homework."""
    before = await load_state(session, transcript_id)
    summary: Summary | None = before.summary
    if summary is None:
        raise SummaryMissing("the transcript has no validated summary (yet)")
    for index in data.items:
        if index >= len(summary.action_items):
            raise ActionItemInvalid(f"there is no action item {index}", field="items")
        if index in before.accepted_items:
            raise ActionItemAlreadyAccepted(f"action item {index} was already accepted")
    if len(set(data.items)) != len(data.items):
        raise ActionItemInvalid("an action item is listed twice", field="items")
    created = [await _create(session, data, before, index, summary) for index in data.items]
    values = {"accepted_items": sorted({*before.accepted_items, *data.items})}
    after = TranscriptRead(**dict(await repository.update_transcript(session, transcript_id, values)))
    await audit.record(
        session, action="transcript.action_items_accepted", entity_type="transcript", entity_id=transcript_id,
        client_id=after.client_id, before=TranscriptRead(**before.model_dump()), after=after,
    )  # fmt: skip
    return AcceptedItems(transcript=after, created_ids=created)


def _one_line(text: str) -> str:
    """An LLM's title as a one-line title (documents refuse control characters in titles)."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


async def _create(
    session: UserSession, data: AcceptActionItems, transcript: TranscriptState, index: int, summary: Summary
) -> UUID:
    item = summary.action_items[index]
    project = await projects.require_project(session, data.project_id)
    if project.client_id != transcript.client_id:
        raise ActionItemInvalid("the project belongs to another client", field="project_id")
    if data.target != "task" and project.phase != "lab":
        raise ActionItemInvalid(f"a {data.target} is for a Lab client's project", field="target")
    if data.target == "homework":
        due = datetime.combine(item.due_date, time(18), UTC) if item.due_date else None
        text = _one_line(f"{item.title} — {item.details}" if item.details else item.title)
        homework = await documents.create_homework(
            session, transcript.client_id, text, project_id=project.id, due_at=due, source="meeting"
        )
        return homework.id
    if data.target == "step":
        if project.kind != "journey":
            raise ActionItemInvalid("steps are for a Lab journey project", field="target")
        step = StepCreate(title=_one_line(item.title)[:200], description=item.details, due_date=item.due_date)
        return (await steps.add_step(session, data.project_id, step)).id
    task = TaskCreate(
        title=item.title, notes=item.details, due_date=item.due_date, source="meeting",
        source_ref=f"meeting:{transcript.meeting_id}#{index}",
    )  # fmt: skip
    return (await tasks.create_task(session, data.project_id, task)).id
