"""Meetings: Hub calls (recorded with consent, transcribed) and members' simple calls."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from integrations.livekit import LiveKitClient
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.core.queue import Resources
from services.meetings import service
from services.meetings.schemas import ConsentCreate, JoinToken, MeetingDetail, MeetingRead, MeetingStart, RecordingRead

router = APIRouter(prefix="/meetings", tags=["meetings"])


def _livekit(request: Request) -> LiveKitClient:
    resources: Resources = request.app.state.job_context.resources
    return resources.get(LiveKitClient)


@router.post("", response_model=MeetingRead, status_code=201, responses=responses(401, 403, 404, 422, 503))
async def start_meeting(session: Session, request: Request, data: MeetingStart) -> MeetingRead:
    """Start a meeting for a client (the operator: a Hub meeting; a member: a simple one)."""
    return await service.start_meeting(session, request.app.state.settings, data)


@router.get("", response_model=Page[MeetingRead], responses=responses(401, 404, 422))
async def list_meetings(
    session: Session,
    client_id: UUID,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List a client's meetings, newest first, one keyset page at a time."""
    return JSONBytes(await service.list_meetings_json(session, client_id, cursor, limit))


@router.get("/{meeting_id}", response_model=MeetingDetail, responses=responses(401, 404))
async def get_meeting(session: Session, meeting_id: UUID) -> MeetingDetail:
    """Read a meeting with its attendance (and, for the operator, its recordings)."""
    return await service.get_meeting(session, meeting_id)


@router.post("/{meeting_id}/token", response_model=JoinToken, responses=responses(401, 404, 409, 503))
async def join_meeting(session: Session, request: Request, meeting_id: UUID) -> JoinToken:
    """A short-lived join token for the meeting's room (the operator and the client's members only)."""
    meeting = await service.load(session, meeting_id)
    return service.join_token(session, _livekit(request), request.app.state.settings, meeting)


@router.post("/{meeting_id}/consent", response_model=MeetingRead, responses=responses(401, 403, 404, 422))
async def record_consent(session: OperatorSession, meeting_id: UUID, data: ConsentCreate) -> MeetingRead:
    """Record who agreed to the meeting being recorded, and when."""
    return await service.record_consent(session, meeting_id, data)


@router.post(
    "/{meeting_id}/recordings",
    response_model=RecordingRead,
    status_code=202,
    responses=responses(401, 403, 404, 409, 422, 503),
)
async def start_recording(session: OperatorSession, request: Request, meeting_id: UUID) -> RecordingRead:
    """Start recording a Hub meeting (needs the recorded consent); the recorder starts in the background."""
    return await service.start_recording(session, request.app.state.settings, meeting_id)


@router.post(
    "/{meeting_id}/recordings/{recording_id}/stop",
    response_model=RecordingRead,
    status_code=202,
    responses=responses(401, 403, 404, 409),
)
async def stop_recording(session: OperatorSession, meeting_id: UUID, recording_id: UUID) -> RecordingRead:
    """Stop a recording; it becomes a document once the recorder has uploaded it."""
    return await service.stop_recording(session, meeting_id, recording_id)
