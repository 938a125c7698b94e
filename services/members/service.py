"""Client membership: who may act for a client. Removing a member revokes access at once, since
every request reads membership from the database.

Inviting someone Supabase Auth does not know yet needs its admin API: the request records the
invitation as a `members.invite` job (committed with it) and the job calls Supabase, then creates
the membership (services/members/jobs.py)."""

from __future__ import annotations

from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.core import queue
from services.core.db import ServiceSession, UserSession
from services.core.errors import Conflict
from services.members import repository
from services.members.directory import UserDirectory
from services.members.errors import MemberExists, MemberNotFound
from services.members.schemas import MemberInvite, MemberInvited, MemberRead, PendingInvitation

INVITE_JOB = "members.invite"


async def list_members(session: UserSession, client_id: UUID) -> list[MemberRead]:
    await clients.require_client(session, client_id)
    rows = await repository.list_for_client(session, client_id)
    return [MemberRead(**dict(r)) for r in rows]


async def invite_member(
    session: UserSession, client_id: UUID, data: MemberInvite, directory: UserDirectory
) -> MemberInvited:
    client = await clients.require_client(session, client_id)
    if client.status == "archived":
        raise Conflict("the client is archived")
    user = await directory.invite(str(data.email))
    if user is None:
        return await _queue_invitation(session, client_id, data)
    row = await repository.insert(
        session, client_id, user.user_id, str(data.email), data.role, session.principal.user_id
    )
    if row is None:
        raise MemberExists(f"{data.email} is already a member of this client")
    member = MemberRead(**dict(row))
    await audit.record(
        session,
        action="member.invited",
        entity_type="client_member",
        entity_id=member.user_id,
        client_id=client_id,
        after=member,
    )
    return MemberInvited(**member.model_dump(), status="member", invitation=user.invitation, dev_token=user.dev_token)


async def _queue_invitation(session: UserSession, client_id: UUID, data: MemberInvite) -> MemberInvited:
    invitation = PendingInvitation(
        client_id=client_id, email=str(data.email).lower(), role=data.role, invited_by=session.principal.user_id
    )
    job_id = await queue.enqueue(session, INVITE_JOB, invitation.model_dump(mode="json"), client_id=client_id)
    invited = MemberInvited(
        **invitation.model_dump(),
        status="pending",
        user_id=None,
        created_at=None,
        invitation="supabase_email",
        job_id=job_id,
    )
    await audit.record(
        session,
        action="member.invited",
        entity_type="client_member",
        entity_id=None,
        client_id=client_id,
        after=invited,
    )
    return invited


async def add_invited_member(session: ServiceSession, invitation: PendingInvitation, user_id: UUID) -> bool:
    """The membership of a user Supabase has invited (from the job); False when it already existed."""
    row = await repository.insert(
        session, invitation.client_id, user_id, invitation.email, invitation.role, invitation.invited_by
    )
    if row is None:
        return False
    await audit.record(
        session,
        action="member.added",
        entity_type="client_member",
        entity_id=user_id,
        client_id=invitation.client_id,
        after=MemberRead(**dict(row)),
    )
    return True


async def remove_member(session: UserSession, client_id: UUID, user_id: UUID) -> None:
    row = await repository.delete(session, client_id, user_id)
    if row is None:
        raise MemberNotFound("no such member of this client")
    await audit.record(
        session,
        action="member.removed",
        entity_type="client_member",
        entity_id=user_id,
        client_id=client_id,
        before=MemberRead(**dict(row)),
    )
