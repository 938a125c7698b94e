"""The signed-in user's profile and preferences."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Session
from api.problems import responses
from services.profiles import service
from services.profiles.schemas import ProfileRead, ProfileUpdate

router = APIRouter(prefix="/me", tags=["profiles"])


@router.get("", response_model=ProfileRead, responses=responses(401, 404))
async def get_me(session: Session) -> ProfileRead:
    """Read my profile, preferences and memberships (created on my first call)."""
    return await service.get_me(session)


@router.patch("", response_model=ProfileRead, responses=responses(401, 404, 422))
async def update_me(session: Session, data: ProfileUpdate) -> ProfileRead:
    """Update my profile; nested preferences are merged with what is stored."""
    return await service.update_me(session, data)
