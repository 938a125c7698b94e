"""LiveKit webhook events applied to meetings: room state, attendance, recordings. Runs under the
service session of the webhook route; each event is applied once (its id is recorded first)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from integrations.livekit import (
    EgressEnded,
    EgressInfo,
    EgressStarted,
    EgressUpdated,
    LiveKitEvent,
    ParticipantInfo,
    ParticipantJoined,
    ParticipantLeft,
    RoomFinished,
    RoomStarted,
)
from services.audit import service as audit
from services.core import queue
from services.core.db import ServiceSession
from services.meetings import repository
from services.meetings.schemas import MeetingRead, ParticipantRead, RecordingRead
from services.meetings.service import FILE_RECORDING_JOB

SENDER = "livekit"


async def apply_livekit_event(session: ServiceSession, event: LiveKitEvent) -> bool:
    """Apply a verified event; False when it was already handled (a redelivery changes nothing)."""
    if not await repository.record_event(session, SENDER, event.id, event.event):
        return False
    at = event.created_at or datetime.now(UTC)
    room = event.room.name if event.room else (event.egress.room_name if event.egress else "")
    row = await repository.get_by_room(session, room) if room else None
    if row is None:  # not one of ours (another app on the same server): recorded, ignored
        return True
    meeting = MeetingRead(**dict(row))
    if isinstance(event, RoomStarted) and meeting.status == "scheduled":
        await _set_status(session, meeting, {"status": "live", "started_at": at})
    elif isinstance(event, RoomFinished) and meeting.status not in ("ended", "failed"):
        await repository.close_all_participants(session, meeting.id, at)
        await _set_status(session, meeting, {"status": "ended", "ended_at": at, "started_at": meeting.started_at or at})
    elif isinstance(event, ParticipantJoined):
        await _joined(session, meeting, event.participant, at)
    elif isinstance(event, ParticipantLeft):
        for row in await repository.close_participant(session, meeting.id, event.participant.identity, at):
            await _attendance(session, meeting, "meeting.participant_left", ParticipantRead(**dict(row)))
    elif isinstance(event, EgressStarted | EgressUpdated):
        await _egress_progress(session, event.egress)
    elif isinstance(event, EgressEnded):
        await _egress_ended(session, meeting, event.egress, at)
    return True


async def _set_status(session: ServiceSession, before: MeetingRead, values: dict[str, object]) -> None:
    after = MeetingRead(**dict(await repository.update_meeting(session, before.id, values)))
    await audit.record(
        session, action=f"meeting.{after.status}", entity_type="meeting", entity_id=before.id,
        client_id=before.client_id, before=before, after=after,
    )  # fmt: skip


def _who(participant: ParticipantInfo) -> tuple[UUID | None, str]:
    """The user and role our join token put in the participant's metadata (signed by us)."""
    try:
        metadata = json.loads(participant.metadata or "{}")
        role = metadata.get("role")
        return UUID(str(metadata["user_id"])), role if role in ("operator", "member") else "guest"
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, "guest"


async def _joined(session: ServiceSession, meeting: MeetingRead, participant: ParticipantInfo, at: datetime) -> None:
    if participant.kind in ("EGRESS", "AGENT"):  # the recorder and agents are not attendees
        return
    user_id, role = _who(participant)
    row = await repository.insert_participant(
        session,
        {
            "client_id": meeting.client_id, "meeting_id": meeting.id, "identity": participant.identity,
            "user_id": user_id, "name": participant.name[:200], "role": role,
            "joined_at": participant.joined_at or at,
        },
    )  # fmt: skip
    await _attendance(session, meeting, "meeting.participant_joined", ParticipantRead(**dict(row)))


async def _attendance(session: ServiceSession, meeting: MeetingRead, action: str, row: ParticipantRead) -> None:
    await audit.record(
        session, action=action, entity_type="meeting_participant", entity_id=row.id, client_id=meeting.client_id,
        after=row,
    )  # fmt: skip


async def _egress_progress(session: ServiceSession, egress: EgressInfo) -> None:
    row = await repository.recording_by_egress(session, egress.egress_id)
    if row is not None and row["status"] == "starting" and egress.status == "EGRESS_ACTIVE":
        await repository.update_recording(session, row["id"], {"status": "active", "started_at": egress.started_at})


async def _egress_ended(session: ServiceSession, meeting: MeetingRead, egress: EgressInfo, at: datetime) -> None:
    row = await repository.recording_by_egress(session, egress.egress_id)
    if row is None or row["status"] in ("ended", "failed"):
        return
    before = RecordingRead(**dict(row))
    files = egress.files
    if egress.status == "EGRESS_COMPLETE" and files:
        values: dict[str, object] = {
            "status": "ended", "size_bytes": files[0].size, "duration_seconds": files[0].duration_seconds,
            "started_at": egress.started_at or before.started_at, "ended_at": egress.ended_at or at,
        }  # fmt: skip
    else:
        reason = egress.error or f"the recorder ended with {egress.status}"
        values = {"status": "failed", "error": reason[:4000], "ended_at": egress.ended_at or at}
    after = RecordingRead(**dict(await repository.update_recording(session, before.id, values)))
    if after.status == "ended":
        # Filing the file as a document, then transcription, run in jobs (they read the storage).
        await queue.enqueue(
            session, FILE_RECORDING_JOB, {"recording_id": str(after.id)},
            idempotency_key=f"{FILE_RECORDING_JOB}:{egress.egress_id}", client_id=meeting.client_id,
        )  # fmt: skip
        await repository.update_meeting(
            session, meeting.id, {"transcription_status": "pending", "transcription_error": None}
        )
    await audit.record(
        session, action=f"meeting.recording_{after.status}", entity_type="meeting_recording", entity_id=after.id,
        client_id=meeting.client_id, before=before, after=after,
    )  # fmt: skip
