"""Transcripts of recorded Hub meetings, their summaries, and accepting action items (operator)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import OperatorSession
from api.problems import responses
from services.transcripts import service
from services.transcripts.schemas import AcceptActionItems, AcceptedItems, TranscriptDetail, TranscriptRead

router = APIRouter(prefix="/transcripts", tags=["transcripts"])


@router.get("", response_model=list[TranscriptRead], responses=responses(401, 403, 404))
async def list_transcripts(session: OperatorSession, meeting_id: UUID) -> list[TranscriptRead]:
    """List a meeting's transcripts (one per recording) with their summaries."""
    return await service.list_for_meeting(session, meeting_id)


@router.get("/{transcript_id}", response_model=TranscriptDetail, responses=responses(401, 403, 404))
async def get_transcript(session: OperatorSession, transcript_id: UUID) -> TranscriptDetail:
    """Read a transcript with its speaker segments, in order."""
    return await service.get_transcript(session, transcript_id)


@router.post(
    "/{transcript_id}/action-items/accept",
    response_model=AcceptedItems,
    responses=responses(401, 403, 404, 409, 422),
)
async def accept_action_items(session: OperatorSession, transcript_id: UUID, data: AcceptActionItems) -> AcceptedItems:
    """Turn chosen action items of the summary into project tasks (or journey steps)."""
    return await service.accept_action_items(session, transcript_id, data)
