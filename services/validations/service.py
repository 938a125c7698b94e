"""The Validation Hub: a client submits a step, MiKL decides each round (approve, request changes,
reject). A round gets exactly one decision; a resubmission after "changes requested" is the next
round of the same request."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.core.db import UserSession
from services.core.errors import Forbidden
from services.core.pagination import Page, encode_cursor, read_cursor
from services.notifications import service as notifications
from services.projects import service as projects
from services.projects import steps
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
    RoundRead,
    ValidationCounts,
    ValidationDetail,
    ValidationRead,
    ValidationSubmit,
)

# decision → (request status, timeline event, audit action, the client's notification title)
OUTCOMES: dict[str, tuple[str, str, str, str]] = {
    "approved": ("approved", "step_validated", "validation.approved", "Étape validée"),
    "changes_requested": (
        "changes_requested",
        "step_changes_requested",
        "validation.changes_requested",
        "Modifications demandées",
    ),
    "rejected": ("rejected", "step_rejected", "validation.rejected", "Soumission refusée"),
}


async def get_validation(session: UserSession, request_id: UUID) -> ValidationDetail:
    row = await repository.get(session, request_id)
    if row is None:
        raise ValidationNotFound()
    rounds = [RoundRead(**dict(r)) for r in await repository.rounds(session, request_id)]
    return ValidationDetail(**dict(row), rounds=rounds)


async def _page(
    session: UserSession, *, queue: bool, cursor: str | None, limit: int, **filters: Any
) -> Page[ValidationRead]:
    after = tuple(read_cursor(cursor, datetime, UUID)) if cursor else None
    rows = await repository.list_requests(session, queue=queue, after=after, limit=limit, **filters)
    items = [ValidationRead(**dict(r)) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor((last.last_submitted_at if queue else last.created_at).isoformat(), str(last.id))
    return Page[ValidationRead](items=items, next_cursor=next_cursor)


async def list_queue(
    session: UserSession,
    *,
    client_id: UUID | None,
    project_id: UUID | None,
    min_age_hours: int | None,
    max_age_hours: int | None,
    cursor: str | None,
    limit: int,
) -> Page[ValidationRead]:
    """The operator's queue: pending requests, the longest-waiting first."""
    return await _page(
        session,
        queue=True,
        cursor=cursor,
        limit=limit,
        client_id=client_id,
        project_id=project_id,
        step_id=None,
        status=None,
        min_age_hours=min_age_hours,
        max_age_hours=max_age_hours,
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
) -> Page[ValidationRead]:
    """Every request, newest first: a member sees their own client's submissions (RLS)."""
    return await _page(
        session,
        queue=False,
        cursor=cursor,
        limit=limit,
        client_id=client_id,
        project_id=project_id,
        step_id=step_id,
        status=status,
        min_age_hours=None,
        max_age_hours=None,
    )


async def counts(session: UserSession, *, client_id: UUID | None, project_id: UUID | None) -> ValidationCounts:
    row = dict(await repository.counts(session, client_id=client_id, project_id=project_id))
    by_client = [ClientPending(**b) for b in row.pop("by_client")]
    return ValidationCounts(**row, by_client=by_client)


async def submit(session: UserSession, data: ValidationSubmit) -> ValidationDetail:
    """A member of the client submits a step (or resubmits it after changes were requested)."""
    if session.principal.is_operator:
        raise Forbidden("only the client submits a step to the Validation Hub")
    step = await steps.require_step(session, data.step_id)
    project = await projects.require_project(session, step.project_id)
    if project.status != "active":
        raise StepNotSubmittable(f"the project is {project.status}: only an active project's steps can be submitted")
    if step.status == "validated":
        raise StepNotSubmittable("this step is already validated")
    document_ids = list(dict.fromkeys(data.document_ids))
    if document_ids:
        found = await repository.documents_of_client(session, document_ids, step.client_id)
        missing = [str(d) for d in document_ids if d not in found]
        if missing:
            raise DocumentsNotAttachable(f"not documents of this client: {', '.join(missing)}", field="document_ids")
    try:
        request_id, round_number = await repository.submit(session, step.id, data.message, document_ids)
    except repository.SubmitRefused as exc:
        if exc.sqlstate == "FX404":
            raise ValidationNotFound() from None
        if exc.sqlstate == "FX422":  # a document changed hands since the check above
            raise DocumentsNotAttachable(exc.message.splitlines()[0], field="document_ids") from None
        raise StepNotSubmittable(exc.message.splitlines()[0]) from None
    detail = await get_validation(session, request_id)
    await projects.record_event(
        session,
        client_id=step.client_id,
        kind="step_submitted",
        project_id=step.project_id,
        step_id=step.id,
        body=data.message or None,
        data={"validation_id": str(request_id), "round": round_number},
    )
    await audit.record(
        session,
        action="validation.submitted",
        entity_type="validation_request",
        entity_id=request_id,
        client_id=step.client_id,
        after=detail,
    )
    again = f" (tour {round_number})" if round_number > 1 else ""
    await notifications.notify_operators(
        session,
        source="validation_hub",
        priority="high",
        client_id=step.client_id,
        title=f"{detail.company_name} · « {step.title} » à valider{again}",
        body=data.message or None,
        link=f"/validations/{request_id}",
        entity_type="validation_request",
        entity_id=str(request_id),
    )
    return detail


async def decide(
    session: UserSession, request_id: UUID, decision: RoundDecision, *, comment: str | None, expected_round: int | None
) -> ValidationDetail:
    """One decision per round: the request row is locked, so of two racing decisions one wins and
    the other gets 409."""
    target = await repository.get(session, request_id)
    if target is None:
        raise ValidationNotFound()
    # Lock order (see migration 0031): project, step, request.
    await projects.lock_project(session, target["project_id"], share=True)
    step = await steps.require_step(session, target["step_id"], for_update=True)
    current = await repository.lock(session, request_id)
    if current is None:
        raise ValidationNotFound()
    before = await get_validation(session, request_id)
    if current["status"] != "pending":
        raise ValidationAlreadyDecided(
            f"this request is {current['status']}: round {current['current_round']} already has its decision"
        )
    round_number = current["current_round"]
    if expected_round is not None and expected_round != round_number:
        raise ValidationStaleRound(f"round {expected_round} is not the current round ({round_number})", field="round")
    decided = await repository.decide_round(
        session, request_id, round_number, decision, comment, session.principal.user_id
    )
    if decided is None:
        raise ValidationAlreadyDecided(f"round {round_number} already has its decision")
    status, event, action, title = OUTCOMES[decision]
    await repository.set_status(session, request_id, status)
    await projects.record_event(
        session,
        client_id=step.client_id,
        kind=event,
        project_id=step.project_id,
        step_id=step.id,
        body=comment or None,
        data={"validation_id": str(request_id), "round": round_number},
    )
    await steps.apply_decision(session, step, decision)
    after = await get_validation(session, request_id)
    await audit.record(
        session,
        action=action,
        entity_type="validation_request",
        entity_id=request_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    await notifications.notify_client_members(
        session,
        after.client_id,
        source="validation_hub",
        title=f"{title} · « {after.step_title} »",
        body=comment or None,
        link=f"/validations/{request_id}",
        entity_type="validation_request",
        entity_id=str(request_id),
    )
    return after


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
