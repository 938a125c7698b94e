"""Meetings: the operator's Hub calls (recorded with consent, transcribed) and the simple calls Lab and
One members start for their own client. Vendor calls (rooms, recordings) run in queue jobs; join
tokens are signed locally. Room state and attendance come from the LiveKit webhook (events.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from integrations.livekit import LiveKitClient
from services.audit import service as audit
from services.clients import service as clients
from services.config import service as config
from services.core import queue
from services.core.db import AnySession, UserSession
from services.core.errors import IntegrationNotConfigured
from services.core.settings import Settings
from services.documents.storage import object_path
from services.meetings import repository
from services.meetings.errors import (
    ConsentMissing,
    MeetingClosed,
    MeetingForbidden,
    MeetingInvalid,
    MeetingNotFound,
    RecordingConflict,
    RecordingNotFound,
)
from services.meetings.schemas import (
    ConsentCreate,
    JoinToken,
    MeetingDetail,
    MeetingRead,
    MeetingStart,
    ParticipantRead,
    RecordingRead,
)
from services.projects import service as projects

CREATE_ROOM_JOB = "meetings.create_room"
START_RECORDING_JOB = "meetings.start_recording"
STOP_RECORDING_JOB = "meetings.stop_recording"
FILE_RECORDING_JOB = "meetings.file_recording"
# Owned by the transcripts module (which depends on this one): named here to enqueue it.
TRANSCRIBE_JOB = "transcripts.transcribe"
RECORDING_FILE_NAME = "recording.mp4"
CLOSED = ("ended", "failed")


def room_name(meeting_id: UUID) -> str:
    return f"foxeo-{meeting_id}"


async def load(session: UserSession, meeting_id: UUID, *, for_update: bool = False) -> MeetingRead:
    """The meeting if the caller may see it (the operator, or a member of its client): 404 otherwise."""
    row = await repository.get(session, meeting_id, for_update=for_update)
    if row is None:
        raise MeetingNotFound()
    return MeetingRead(**dict(row))


def _require_livekit(settings: Settings) -> None:
    for name, value in (
        ("LIVEKIT_URL", settings.livekit_url),
        ("LIVEKIT_API_KEY", settings.livekit_api_key),
        ("LIVEKIT_API_SECRET", settings.livekit_api_secret),
    ):
        if not value:
            raise IntegrationNotConfigured("livekit", name)


async def start_meeting(session: UserSession, settings: Settings, data: MeetingStart) -> MeetingRead:
    """A Hub meeting for the operator (full by default), a simple one for a member of the client."""
    _require_livekit(settings)  # a meeting nobody can join is not started
    client = await clients.require_client(session, data.client_id)
    if client.status == "archived":
        raise MeetingInvalid("the client is archived", field="client_id")
    if (
        data.project_id is not None
        and (await projects.require_project(session, data.project_id)).client_id != client.id
    ):
        raise MeetingInvalid("the project belongs to another client", field="project_id")
    if session.principal.is_operator:
        kind, dashboard = data.kind or "full", "hub"
    else:
        if data.kind == "full":
            raise MeetingForbidden("members start simple meetings (no recording, no transcription)", field="kind")
        kind, dashboard = "simple", (await config.get_config(session, client.id)).dashboard_type
    meeting_id = uuid4()
    row = await repository.insert_meeting(
        session,
        {
            "id": meeting_id, "client_id": client.id, "project_id": data.project_id, "dashboard": dashboard,
            "kind": kind, "title": data.title, "room_name": room_name(meeting_id),
            "created_by": session.principal.user_id,
        },
    )  # fmt: skip
    meeting = MeetingRead(**dict(row))
    # LiveKit also creates a room when its first participant joins; the job sets our timeouts first.
    await queue.enqueue(
        session, CREATE_ROOM_JOB, {"meeting_id": str(meeting_id)}, idempotency_key=f"{CREATE_ROOM_JOB}:{meeting_id}",
        client_id=client.id,
    )  # fmt: skip
    await audit.record(
        session, action="meeting.started", entity_type="meeting", entity_id=meeting_id, client_id=client.id,
        after=meeting,
    )  # fmt: skip
    return meeting


async def open_for_booking(session: AnySession, client_id: UUID, title: str) -> MeetingRead:
    """A Hub meeting for a booked appointment (Cal.com, under the service session): nobody started it."""
    meeting_id = uuid4()
    row = await repository.insert_meeting(
        session,
        {
            "id": meeting_id, "client_id": client_id, "project_id": None, "dashboard": "hub", "kind": "full",
            "title": title[:200], "room_name": room_name(meeting_id), "created_by": None,
        },
    )  # fmt: skip
    meeting = MeetingRead(**dict(row))
    await queue.enqueue(
        session, CREATE_ROOM_JOB, {"meeting_id": str(meeting_id)}, idempotency_key=f"{CREATE_ROOM_JOB}:{meeting_id}",
        client_id=client_id,
    )  # fmt: skip
    await audit.record(
        session, action="meeting.opened_for_booking", entity_type="meeting", entity_id=meeting_id,
        client_id=client_id, after=meeting,
    )  # fmt: skip
    return meeting


async def record_webhook_event(session: AnySession, sender: str, event_id: str, event: str) -> bool:
    """Remember a webhook delivery; False when it was already handled (a redelivery)."""
    return await repository.record_event(session, sender, event_id, event)


async def list_meetings_json(session: UserSession, client_id: UUID, cursor: str | None, limit: int) -> bytes:
    await clients.require_client(session, client_id)  # 404 for another client's member
    return await repository.list_page(session, client_id, cursor, limit)


async def get_meeting(session: UserSession, meeting_id: UUID) -> MeetingDetail:
    meeting = await load(session, meeting_id)
    return MeetingDetail(
        **meeting.model_dump(),
        participants=[ParticipantRead(**dict(r)) for r in await repository.participants(session, meeting_id)],
        recordings=[RecordingRead(**dict(r)) for r in await repository.recordings(session, meeting_id)],
    )


def join_token(session: UserSession, livekit: LiveKitClient, settings: Settings, meeting: MeetingRead) -> JoinToken:
    """A short-lived token for this meeting's room: the operator may also administer and record it."""
    if meeting.status in CLOSED:
        raise MeetingClosed(f"the meeting is {meeting.status}")
    if not settings.livekit_url:
        raise IntegrationNotConfigured("livekit", "LIVEKIT_URL")
    principal = session.principal
    role: Literal["operator", "client"] = "operator" if principal.is_operator else "client"
    ttl = timedelta(seconds=settings.livekit_token_ttl_seconds)
    token = livekit.join_token(
        meeting.room_name,
        str(principal.user_id),
        role,
        name=principal.email or None,
        metadata={"role": "operator" if principal.is_operator else "member", "user_id": str(principal.user_id)},
        ttl=ttl,
    )
    return JoinToken(
        url=settings.livekit_url, room_name=meeting.room_name, identity=str(principal.user_id), role=role,
        token=token, expires_at=datetime.now(UTC) + ttl,
    )  # fmt: skip


def guest_join_token(
    livekit: LiveKitClient, settings: Settings, meeting: MeetingRead, identity: str, name: str | None
) -> JoinToken:
    """A token for someone without an account (a prospect from the pre-visio form): a plain attendee."""
    if meeting.status in CLOSED:
        raise MeetingClosed(f"the meeting is {meeting.status}")
    if not settings.livekit_url:
        raise IntegrationNotConfigured("livekit", "LIVEKIT_URL")
    ttl = timedelta(seconds=settings.livekit_token_ttl_seconds)
    token = livekit.join_token(meeting.room_name, identity, "client", name=name, metadata={"role": "guest"}, ttl=ttl)
    return JoinToken(
        url=settings.livekit_url, room_name=meeting.room_name, identity=identity, role="client", token=token,
        expires_at=datetime.now(UTC) + ttl,
    )  # fmt: skip


async def record_consent(session: UserSession, meeting_id: UUID, data: ConsentCreate) -> MeetingRead:
    before = await load(session, meeting_id, for_update=True)
    if before.kind != "full":
        raise MeetingInvalid("simple meetings are never recorded", field="kind")
    values: dict[str, Any] = {
        "consent_agreed_by": data.agreed_by,
        "consent_agreed_at": data.agreed_at or datetime.now(UTC),
        "consent_recorded_by": session.principal.user_id,
    }
    after = MeetingRead(**dict(await repository.update_meeting(session, meeting_id, values)))
    await audit.record(
        session, action="meeting.consent_recorded", entity_type="meeting", entity_id=meeting_id,
        client_id=after.client_id, before=before, after=after,
    )  # fmt: skip
    return after


def _require_egress_settings(settings: Settings) -> None:
    _require_livekit(settings)
    for name, value in (
        ("LIVEKIT_EGRESS_S3_ENDPOINT", settings.livekit_egress_s3_endpoint),
        ("LIVEKIT_EGRESS_S3_ACCESS_KEY", settings.livekit_egress_s3_access_key),
        ("LIVEKIT_EGRESS_S3_SECRET", settings.livekit_egress_s3_secret),
    ):
        if not value:
            raise IntegrationNotConfigured("livekit", name)


async def start_recording(session: UserSession, settings: Settings, meeting_id: UUID) -> RecordingRead:
    """Record a Hub meeting whose participants agreed to it; the egress starts in a job."""
    meeting = await load(session, meeting_id, for_update=True)
    if meeting.kind != "full":
        raise MeetingInvalid("simple meetings are never recorded", field="kind")
    if meeting.status in CLOSED:
        raise MeetingClosed(f"the meeting is {meeting.status}")
    if meeting.consent_agreed_by is None or meeting.consent_agreed_at is None:
        raise ConsentMissing()
    _require_egress_settings(settings)
    recording_id = uuid4()
    phase = (await config.get_config(session, meeting.client_id)).dashboard_type
    row = await repository.insert_recording(
        session,
        {
            "id": recording_id, "client_id": meeting.client_id, "meeting_id": meeting_id,
            # The recording becomes the document of the same id: the egress writes straight to its path.
            "storage_path": object_path(meeting.client_id, recording_id, 1, RECORDING_FILE_NAME),
            "phase": phase, "consent_agreed_by": meeting.consent_agreed_by,
            "consent_agreed_at": meeting.consent_agreed_at, "created_by": session.principal.user_id,
        },
    )  # fmt: skip
    if row is None:
        raise RecordingConflict("this meeting is already being recorded")
    recording = RecordingRead(**dict(row))
    await queue.enqueue(
        session, START_RECORDING_JOB, {"recording_id": str(recording_id)},
        idempotency_key=f"{START_RECORDING_JOB}:{recording_id}", client_id=meeting.client_id,
    )  # fmt: skip
    await audit.record(
        session, action="meeting.recording_started", entity_type="meeting_recording", entity_id=recording_id,
        client_id=meeting.client_id, after=recording,
    )  # fmt: skip
    return recording


async def stop_recording(session: UserSession, meeting_id: UUID, recording_id: UUID) -> RecordingRead:
    meeting = await load(session, meeting_id)
    row = await repository.get_recording(session, recording_id)
    if row is None or row["meeting_id"] != meeting.id:
        raise RecordingNotFound()
    before = RecordingRead(**dict(row))
    if before.status not in ("starting", "active"):
        raise RecordingConflict(f"the recording is {before.status}")
    after = RecordingRead(**dict(await repository.update_recording(session, recording_id, {"status": "stopping"})))
    await queue.enqueue(
        session, STOP_RECORDING_JOB, {"recording_id": str(recording_id)},
        idempotency_key=f"{STOP_RECORDING_JOB}:{recording_id}", client_id=meeting.client_id,
    )  # fmt: skip
    await audit.record(
        session, action="meeting.recording_stopped", entity_type="meeting_recording", entity_id=recording_id,
        client_id=meeting.client_id, before=before, after=after,
    )  # fmt: skip
    return after


# ---------------------------------------------------------------- for jobs (service session)


class RecordingFile(RecordingRead):
    client_id: UUID
    storage_path: str
    phase: str
    created_by: UUID


async def recording_for_job(session: AnySession, recording_id: UUID) -> RecordingFile | None:
    """The recording, locked, with what jobs need (storage path, phase)."""
    row = await repository.get_recording(session, recording_id)
    return None if row is None else RecordingFile(**dict(row))


async def meeting_for_job(session: AnySession, meeting_id: UUID) -> MeetingRead | None:
    row = await repository.get(session, meeting_id)
    return None if row is None else MeetingRead(**dict(row))


async def update_recording(session: AnySession, recording_id: UUID, values: dict[str, Any]) -> RecordingFile:
    return RecordingFile(**dict(await repository.update_recording(session, recording_id, values)))


async def set_transcription_status(
    session: AnySession, meeting_id: UUID, status: str, *, error: str | None = None
) -> MeetingRead:
    """Where the meeting's transcription stands; `failed` always carries its reason."""
    before = await meeting_for_job(session, meeting_id)
    if before is None:
        raise MeetingNotFound()
    values = {"transcription_status": status, "transcription_error": error[:4000] if error else None}
    after = MeetingRead(**dict(await repository.update_meeting(session, meeting_id, values)))
    await audit.record(
        session, action=f"meeting.transcription_{status}", entity_type="meeting", entity_id=meeting_id,
        client_id=after.client_id, before=before, after=after,
    )  # fmt: skip
    return after
