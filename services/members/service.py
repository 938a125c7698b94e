"""Client membership: who may act for a client. Removing a member revokes access at once, since
every request reads membership from the database."""

from __future__ import annotations

from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.core.db import UserSession
from services.core.errors import Conflict
from services.members import repository
from services.members.directory import UserDirectory
from services.members.errors import MemberExists, MemberNotFound
from services.members.schemas import MemberInvite, MemberInvited, MemberRead


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
    return MemberInvited(**member.model_dump(), invitation=user.invitation, dev_token=user.dev_token)


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
