"""Members of a client: the users who act for it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import OperatorSession, Session
from api.problems import responses
from services.members import service
from services.members.schemas import MemberInvite, MemberInvited, MemberRead

router = APIRouter(prefix="/clients/{client_id}/members", tags=["members"])


@router.get("", response_model=list[MemberRead], responses=responses(401, 404))
async def list_members(session: Session, client_id: UUID) -> list[MemberRead]:
    """List the members of a client (the operator, or a member of that client)."""
    return await service.list_members(session, client_id)


@router.post("", response_model=MemberInvited, status_code=201, responses=responses(401, 403, 404, 409, 422, 503))
async def invite_member(
    session: OperatorSession, request: Request, client_id: UUID, data: MemberInvite
) -> MemberInvited:
    """Invite a user by e-mail into a client (Supabase's invitation e-mail is sent by a job; embedded: a dev token)."""
    return await service.invite_member(session, client_id, data, request.app.state.user_directory)


@router.delete("/{user_id}", status_code=204, response_class=Response, responses=responses(401, 403, 404))
async def remove_member(session: OperatorSession, client_id: UUID, user_id: UUID) -> Response:
    """Remove a member; their access ends with their next request."""
    await service.remove_member(session, client_id, user_id)
    return Response(status_code=204)
