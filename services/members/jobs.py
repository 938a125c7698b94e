"""Queue handlers of the members module."""

from __future__ import annotations

import asyncpg

from integrations.errors import NotConfiguredError, RequestError
from services.core.queue import Job, JobContext, JobHandler, PermanentJobError
from services.members import service
from services.members.directory import SupabaseDirectory
from services.members.schemas import PendingInvitation


async def send_invitation(ctx: JobContext, job: Job) -> None:
    """Supabase Auth invites the user (once: a user an earlier run created is reused), then the
    membership is created. Supabase's refusals are final; timeouts and 5xx are retried."""
    invitation = PendingInvitation.model_validate(job.payload)
    directory = ctx.resources.get(SupabaseDirectory)
    try:
        user_id = await directory.send_invite(invitation.email)
    except (RequestError, NotConfiguredError) as exc:
        raise PermanentJobError(str(exc)) from exc
    try:
        async with ctx.db.service_session() as session:
            await service.add_invited_member(session, invitation, user_id)
    except asyncpg.ForeignKeyViolationError as exc:
        raise PermanentJobError("the client no longer exists") from exc


HANDLERS: dict[str, JobHandler] = {service.INVITE_JOB: send_invitation}
