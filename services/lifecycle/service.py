"""Lab → One graduation and Lab reactivation: each is one transaction that moves the client's status,
dashboard, modules and Élio Lab switch together, closes or opens the Lab cycle, and leaves its mark
in the audit log and the client's timeline. Everything from the Lab stays readable as Lab history."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.clients.schemas import ClientUpdate
from services.config import service as config
from services.core.db import UserSession
from services.lifecycle import repository
from services.lifecycle.errors import AlreadyInTargetState, LifecycleNotAllowed
from services.lifecycle.schemas import (
    GraduationInput,
    LifecycleChange,
    LifecycleEventRead,
    LifecycleState,
    ReactivationInput,
)
from services.notifications import service as notifications
from services.projects import journeys
from services.projects import service as projects
from services.projects.schemas import JourneyStart
from services.validations import service as validations


async def get_state(session: UserSession, client_id: UUID) -> LifecycleState:
    """The operator, or a member of the client (RLS)."""
    client = await clients.require_client(session, client_id)
    current = await config.get_config(session, client_id)
    events = [LifecycleEventRead(**dict(r)) for r in await repository.list_events(session, client_id)]
    return LifecycleState(
        client_id=client_id,
        status=client.status,
        dashboard_type=current.dashboard_type,
        active_modules=current.active_modules,
        elio_lab_enabled=await config.elio_lab_enabled(session, client_id),
        lab_cycle=await repository.current_cycle(session, client_id),
        events=events,
    )


async def _record(
    session: UserSession,
    client_id: UUID,
    *,
    kind: str,
    from_status: str,
    to_status: str,
    cycle: int,
    note: str | None,
    config_before: dict[str, Any],
    closed: list[UUID],
) -> LifecycleEventRead:
    row = await repository.insert_event(
        session,
        {
            "client_id": client_id,
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            "lab_cycle": cycle,
            "note": note,
            "config_before": config_before,
            "closed_project_ids": closed,
            "actor_id": session.principal.user_id,
        },
    )
    event = LifecycleEventRead(**dict(row))
    await projects.record_event(
        session,
        client_id=client_id,
        kind=kind,
        body=note,
        data={"lab_cycle": cycle, "from": from_status, "to": to_status, "closed_project_ids": [str(p) for p in closed]},
    )
    return event


async def graduate(session: UserSession, client_id: UUID, data: GraduationInput) -> LifecycleChange:
    """Lab → One: status `one`, One dashboard and modules, Élio Lab off, open journeys closed."""
    # The client row lock serialises graduation and reactivation of one client.
    client = await clients.require_client(session, client_id, for_update=True)
    if client.status == "one":
        raise AlreadyInTargetState("this client has already graduated to One")
    if client.status != "lab":
        raise LifecycleNotAllowed(f"only a Lab client can graduate (this client is {client.status})")
    cycle = await repository.current_cycle(session, client_id)
    restore = await repository.modules_before_last_reactivation(session, client_id)
    config_before, config_after = await config.switch_dashboard(
        session, client_id, "one", elio_lab_enabled=False, restore_modules=restore
    )
    await clients.update_client(session, client_id, ClientUpdate(status="one"), lifecycle=True)
    closed = await projects.close_journeys(session, client_id, reason="graduation")
    closed_validations = await validations.close_for_projects(session, client_id, closed, reason="graduation")
    event = await _record(
        session,
        client_id,
        kind="graduated",
        from_status="lab",
        to_status="one",
        cycle=cycle,
        note=data.note,
        config_before=config_before,
        closed=closed,
    )
    state = await get_state(session, client_id)
    await audit.record(
        session,
        action="client.graduated",
        entity_type="client",
        entity_id=client_id,
        client_id=client_id,
        before={"status": client.status, "config": config_before},
        after={
            "status": state.status,
            "config": config_after,
            "lab_cycle": cycle,
            "closed_project_ids": [str(p) for p in closed],
            "closed_validation_ids": [str(v) for v in closed_validations],
        },
    )
    await notifications.notify_client_members(
        session,
        client_id,
        source="system",
        title="Bienvenue dans Foxeo One",
        body="Votre espace One est prêt ; votre parcours Lab reste consultable dans l'historique.",
        link="/",
        entity_type="client",
        entity_id=str(client_id),
    )
    return LifecycleChange(**state.model_dump(), event=event, closed_validation_ids=closed_validations)


async def reactivate_lab(session: UserSession, client_id: UUID, data: ReactivationInput) -> LifecycleChange:
    """One → Lab for a new cycle: Lab dashboard and modules, Élio Lab back on (this is the only way it
    comes back), optionally the new cycle's journey."""
    client = await clients.require_client(session, client_id, for_update=True)
    if client.status == "lab":
        raise AlreadyInTargetState("this client's Lab is already open")
    if client.status != "one":
        raise LifecycleNotAllowed(f"only a One client's Lab can be reopened (this client is {client.status})")
    cycle = await repository.current_cycle(session, client_id) + 1
    config_before, config_after = await config.switch_dashboard(session, client_id, "lab", elio_lab_enabled=True)
    await clients.update_client(session, client_id, ClientUpdate(status="lab"), lifecycle=True)
    event = await _record(
        session,
        client_id,
        kind="lab_reactivated",
        from_status="one",
        to_status="lab",
        cycle=cycle,
        note=data.note,
        config_before=config_before,
        closed=[],
    )
    journey_id = None
    if data.template_id is not None:
        journey_id = (await journeys.start_journey(session, client_id, JourneyStart(template_id=data.template_id))).id
    state = await get_state(session, client_id)
    await audit.record(
        session,
        action="client.lab_reactivated",
        entity_type="client",
        entity_id=client_id,
        client_id=client_id,
        before={"status": client.status, "config": config_before},
        after={
            "status": state.status,
            "config": config_after,
            "lab_cycle": cycle,
            "journey_id": str(journey_id) if journey_id else None,
        },
    )
    await notifications.notify_client_members(
        session,
        client_id,
        source="system",
        title="Votre Lab est de nouveau ouvert",
        body=f"Un nouveau cycle commence (cycle {cycle}).",
        link="/",
        entity_type="client",
        entity_id=str(client_id),
    )
    return LifecycleChange(**state.model_dump(), event=event, journey_id=journey_id)
