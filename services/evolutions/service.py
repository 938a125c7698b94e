"""Evolution requests (One): the client asks, MiKL estimates, quotes and delivers through an
`evolution` project; the client follows the status and its history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.core.db import UserSession
from services.core.errors import Unprocessable
from services.core.pagination import Page
from services.evolutions import repository
from services.evolutions.errors import EvolutionNotFound, EvolutionsNotAvailable, EvolutionTransitionInvalid
from services.evolutions.schemas import (
    EvolutionCreate,
    EvolutionDetail,
    EvolutionEventRead,
    EvolutionRead,
    EvolutionStatusChange,
    EvolutionUpdate,
)
from services.notifications import service as notifications
from services.projects import service as projects
from services.projects.schemas import ProjectCreate

# The operator's workflow; `declined` is possible from any status before delivery.
NEXT: dict[str, set[str]] = {
    "requested": {"estimating", "declined"},
    "estimating": {"quoted", "declined"},
    "quoted": {"accepted", "declined"},
    "accepted": {"in_progress", "declined"},
    "in_progress": {"delivered", "declined"},
    "delivered": set(),
    "declined": set(),
}
# What the evolution project becomes when the request moves on.
PROJECT_STATUS = {"in_progress": "active", "delivered": "done", "declined": "cancelled"}
MESSAGES = {
    "requested": "Nouvelle demande d'évolution",
    "estimating": "Évolution en cours d'estimation",
    "quoted": "Devis disponible pour votre évolution",
    "accepted": "Évolution acceptée",
    "in_progress": "Évolution en cours de réalisation",
    "delivered": "Évolution livrée",
    "declined": "Évolution déclinée",
}


def _actor(session: UserSession) -> dict[str, Any]:
    return {
        "actor_id": session.principal.user_id,
        "actor_role": "operator" if session.principal.is_operator else "member",
    }


async def get_evolution(session: UserSession, evolution_id: UUID, *, for_update: bool = False) -> EvolutionDetail:
    row = await repository.get(session, evolution_id, for_update=for_update)
    if row is None:
        raise EvolutionNotFound()
    history = [EvolutionEventRead(**dict(e)) for e in await repository.events(session, evolution_id)]
    return EvolutionDetail(**dict(row), history=history)


async def list_evolutions(
    session: UserSession, *, client_id: UUID | None, status: str | None, cursor: str | None, limit: int
) -> Page[EvolutionRead]:
    """Newest first; RLS keeps a member to their own client's requests."""
    rows, next_cursor = await repository.list_requests(
        session, client_id=client_id, status=status, cursor=cursor, limit=limit
    )
    return Page[EvolutionRead](items=[EvolutionRead(**dict(r)) for r in rows], next_cursor=next_cursor)


async def create_evolution(session: UserSession, data: EvolutionCreate) -> EvolutionDetail:
    """A member of a One client asks for an evolution (or the operator records it for them)."""
    client = await clients.require_client(session, data.client_id)
    if client.status != "one":
        raise EvolutionsNotAvailable("evolution requests are for One clients", field="client_id")
    evolution_id = await repository.insert_request(
        session, {**data.model_dump(), "requested_by": session.principal.user_id}
    )
    await repository.insert_event(
        session,
        {
            "evolution_id": evolution_id,
            "client_id": client.id,
            "from_status": None,
            "to_status": "requested",
            **_actor(session),
        },
    )
    detail = await get_evolution(session, evolution_id)
    await projects.record_event(
        session,
        client_id=client.id,
        kind="evolution_requested",
        body=detail.title,
        data={"evolution_id": str(evolution_id)},
    )
    await audit.record(
        session,
        action="evolution.requested",
        entity_type="evolution_request",
        entity_id=evolution_id,
        client_id=client.id,
        after=detail,
    )
    notice: dict[str, Any] = {
        "source": "system",
        "title": f"{MESSAGES['requested']} · {detail.title}",
        "body": detail.description or None,
        "link": f"/evolutions/{evolution_id}",
        "entity_type": "evolution_request",
        "entity_id": str(evolution_id),
    }
    if session.principal.is_operator:
        await notifications.notify_client_members(session, client.id, **notice)
    else:
        await notifications.notify_operators(session, client_id=client.id, **notice)
    return detail


async def update_evolution(session: UserSession, evolution_id: UUID, data: EvolutionUpdate) -> EvolutionDetail:
    before = await get_evolution(session, evolution_id, for_update=True)
    values = data.model_dump(exclude_unset=True)
    for name in ("title", "description"):
        if name in values and values[name] is None:
            raise Unprocessable(f"{name} cannot be null", field=name)
    if values and before.status in ("delivered", "declined"):
        raise EvolutionTransitionInvalid(f"this request is {before.status}: it can no longer be edited")
    if values:
        await repository.update_request(session, evolution_id, values)
    after = await get_evolution(session, evolution_id)
    await audit.record(
        session,
        action="evolution.updated",
        entity_type="evolution_request",
        entity_id=evolution_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    return after


async def change_status(session: UserSession, evolution_id: UUID, data: EvolutionStatusChange) -> EvolutionDetail:
    """Move a request along the workflow; accepting it creates its `evolution` project."""
    before = await get_evolution(session, evolution_id, for_update=True)
    if data.status not in NEXT[before.status]:
        raise EvolutionTransitionInvalid(f"a {before.status} request cannot become {data.status}", field="status")
    now = datetime.now(UTC)
    values: dict[str, Any] = {"status": data.status}
    if data.quote_reference is not None:
        values["quote_reference"] = data.quote_reference
    if data.status == "declined":
        values.update(decline_reason=data.reason, declined_at=now)
    elif data.status == "delivered":
        values["delivered_at"] = now
    elif data.status == "accepted" and before.project_id is None:
        project = await projects.create_project(
            session,
            ProjectCreate(
                client_id=before.client_id,
                kind="evolution",
                name=before.title,
                description=before.description,
                due_date=before.desired_date,
            ),
        )
        values["project_id"] = project.id
    await repository.update_request(session, evolution_id, values)
    project_id = values.get("project_id", before.project_id)
    if project_id is not None and data.status in PROJECT_STATUS:
        target = PROJECT_STATUS[data.status]
        current = await projects.require_project(session, project_id)
        if current.status != target and target in projects.PROJECT_TRANSITIONS[current.status]:
            await projects.set_project_status(session, project_id, target, reason=f"evolution {data.status}")
    await repository.insert_event(
        session,
        {
            "evolution_id": evolution_id,
            "client_id": before.client_id,
            "from_status": before.status,
            "to_status": data.status,
            "note": data.reason or data.note,
            **_actor(session),
        },
    )
    after = await get_evolution(session, evolution_id)
    await projects.record_event(
        session,
        client_id=after.client_id,
        kind="evolution_status_changed",
        project_id=project_id,
        body=data.reason or data.note,
        data={"evolution_id": str(evolution_id), "from": before.status, "to": after.status},
    )
    await audit.record(
        session,
        action=f"evolution.{data.status}",
        entity_type="evolution_request",
        entity_id=evolution_id,
        client_id=after.client_id,
        before=before,
        after=after,
    )
    await notifications.notify_client_members(
        session,
        after.client_id,
        source="system",
        title=f"{MESSAGES[data.status]} · {after.title}",
        body=data.reason or data.note,
        link=f"/evolutions/{evolution_id}",
        entity_type="evolution_request",
        entity_id=str(evolution_id),
    )
    return after
