"""The Validation Hub: a client submits a step, MiKL decides each round (approve, request changes,
reject). A round gets exactly one decision; a resubmission after "changes requested" is the next
round of the same request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.core.errors import Forbidden
from services.validations import repository
from services.validations.errors import (
    DocumentsNotAttachable,
    StepNotSubmittable,
    ValidationAlreadyDecided,
    ValidationNotFound,
    ValidationStaleRound,
)
from services.validations.schemas import (
    ClientPending,
    RoundDecision,
    ValidationCounts,
    ValidationDetail,
    ValidationSubmit,
)


def _refused(exc: repository.Refused) -> Exception:
    """The typed error of a refusal from the database (see migration 0048)."""
    if exc.sqlstate == "FX404":
        return ValidationNotFound()
    if exc.sqlstate == "FX422":
        return DocumentsNotAttachable(exc.message, field=exc.field or "document_ids")
    if exc.sqlstate == "FXV09":
        return ValidationStaleRound(exc.message, field=exc.field or "round")
    return StepNotSubmittable(exc.message)


async def get_validation(session: UserSession, request_id: UUID) -> ValidationDetail:
    detail = await repository.detail(session, request_id)
    if detail is None:
        raise ValidationNotFound()
    return ValidationDetail.model_validate(detail)


async def _page(session: UserSession, *, queue: bool, cursor: str | None, limit: int, **filters: Any) -> bytes:
    """A Page[ValidationRead] as JSON bytes."""
    return await repository.list_requests_page(session, queue=queue, filters=filters, cursor=cursor, limit=limit)


async def list_queue(
    session: UserSession,
    *,
    client_id: UUID | None,
    project_id: UUID | None,
    min_age_hours: int | None,
    max_age_hours: int | None,
    cursor: str | None,
    limit: int,
) -> bytes:
    """The operator's queue: pending requests, the longest-waiting first."""
    return await _page(
        session,
        queue=True,
        cursor=cursor,
        limit=limit,
        client=client_id,
        project=project_id,
        step=None,
        status=None,
        min_age=min_age_hours,
        max_age=max_age_hours,
    )


async def list_validations(
    session: UserSession,
    *,
    client_id: UUID | None,
    project_id: UUID | None,
    step_id: UUID | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> bytes:
    """Every request, newest first: a member sees their own client's submissions (RLS)."""
    return await _page(
        session,
        queue=False,
        cursor=cursor,
        limit=limit,
        client=client_id,
        project=project_id,
        step=step_id,
        status=status,
        min_age=None,
        max_age=None,
    )


async def counts(session: UserSession, *, client_id: UUID | None, project_id: UUID | None) -> ValidationCounts:
    row = dict(await repository.counts(session, client_id=client_id, project_id=project_id))
    by_client = [ClientPending(**b) for b in row.pop("by_client")]
    return ValidationCounts(**row, by_client=by_client)


async def submit(session: UserSession, data: ValidationSubmit) -> ValidationDetail:
    """A member of the client submits a step (or resubmits it after changes were requested): one SQL
    call allocates the round, moves the step, writes the timeline and audit, notifies the operators."""
    if session.principal.is_operator:
        raise Forbidden("only the client submits a step to the Validation Hub")
    try:
        detail = await repository.submit(session, data.step_id, data.message, data.document_ids)
    except repository.Refused as exc:
        raise _refused(exc) from None
    return ValidationDetail.model_validate(detail)


async def decide(
    session: UserSession, request_id: UUID, decision: RoundDecision, *, comment: str | None, expected_round: int | None
) -> ValidationDetail:
    """One decision per round, in one SQL call that locks the request: of two racing decisions one
    wins and the other gets 409."""
    try:
        detail = await repository.decide(session, request_id, decision, comment, expected_round)
    except repository.Refused as exc:
        raise (ValidationAlreadyDecided(exc.message) if exc.sqlstate == "FX409" else _refused(exc)) from None
    return ValidationDetail.model_validate(detail)


async def has_open_request(session: UserSession, step_id: UUID) -> bool:
    """Whether the step waits in the Validation Hub (pending, or changes requested)."""
    return await repository.open_request_of_step(session, step_id) is not None


async def close_for_projects(
    session: UserSession, client_id: UUID, project_ids: list[UUID], *, reason: str
) -> list[UUID]:
    """Close the open requests of closed projects (graduation, a project done or cancelled): they leave
    the queue undecided, and the client may submit the step again if the project is reopened."""
    if not project_ids:
        return []
    closed = await repository.close_open(session, project_ids)
    for request_id in closed:
        await audit.record(
            session,
            action="validation.closed",
            entity_type="validation_request",
            entity_id=request_id,
            client_id=client_id,
            after={"status": "closed", "reason": reason},
        )
    return closed
