"""The prospect after the visio: the operator's verdict (hot, warm, cold, no) with a note schedules its
follow-ups as reminders with a suggested message (the previous verdict's pending ones cancelled), and
a prospect converts into a Lab or One client in place (same client id: its whole history stays)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.audit import service as audit
from services.clients import service as clients
from services.clients.schemas import ClientRead, ClientUpdate
from services.config import service as config
from services.core.db import AnySession, UserSession
from services.core.settings import Settings
from services.prospects import repository
from services.prospects.errors import CompanyNotFound, NotAProspect
from services.prospects.schemas import (
    CompanyRead,
    ConversionCreate,
    ConversionRead,
    ProspectStatusCreate,
    ProspectStatusRead,
    ProspectStatusSet,
)
from services.reminders import service as reminders
from services.reminders.schemas import ReminderRead

FOLLOW_UP = "prospects.follow_up"
_MESSAGES = {
    "hot": "Bonjour {name}, suite à notre échange, voici comme promis la proposition pour démarrer."
    " Quand pouvons-nous caler le lancement ?",
    "warm": "Bonjour {name}, je reviens vers vous après notre visio : avez-vous pu avancer dans votre réflexion ?"
    " Je reste disponible pour en reparler.",
    "cold": "Bonjour {name}, je prends de vos nouvelles : où en est votre projet ? Au plaisir d'en discuter.",
}


async def _prospect(session: UserSession, client_id: UUID) -> ClientRead:
    client = await clients.require_client(session, client_id, for_update=True)
    if client.status != "prospect":
        raise NotAProspect(f"this client is {client.status}, not a prospect")
    return client


async def cancel_follow_ups(session: AnySession, client_id: UUID) -> list[ReminderRead]:
    return await reminders.cancel(session, kind=FOLLOW_UP, subject_id=str(client_id))


async def set_status(
    session: UserSession, settings: Settings, client_id: UUID, data: ProspectStatusCreate
) -> ProspectStatusSet:
    client = await _prospect(session, client_id)
    await clients.update_client(session, client_id, ClientUpdate(prospect_temperature=data.temperature))
    row = await repository.insert_status(
        session,
        {"client_id": client_id, "temperature": data.temperature, "note": data.note,
         "set_by": session.principal.user_id},
    )  # fmt: skip
    status = ProspectStatusRead(**dict(row))
    await cancel_follow_ups(session, client_id)
    name = client.contact_first_name or client.company_name
    now = datetime.now(UTC)
    follow_ups = []
    for days in settings.prospect_followup_days.get(data.temperature, []):
        reminder = await reminders.schedule(
            session, kind=FOLLOW_UP, subject_type="client", subject_id=str(client_id),
            due_at=now + timedelta(days=days), client_id=client_id, audience="operator",
            title=f"Relancer {client.company_name} (J+{days}, {data.temperature})"[:200], body=data.note,
            suggested_message=_MESSAGES[data.temperature].format(name=name), link=f"/clients/{client_id}",
        )  # fmt: skip
        follow_ups.append(reminder)
    result = ProspectStatusSet(**status.model_dump(), follow_ups=follow_ups)
    await audit.record(
        session, action="prospect.status_set", entity_type="client", entity_id=client_id, client_id=client_id,
        before={"prospect_temperature": client.prospect_temperature}, after=result,
    )  # fmt: skip
    return result


async def convert(session: UserSession, client_id: UUID, data: ConversionCreate) -> ConversionRead:
    """prospect → lab (the Lab dashboard it was created with) or → one (switched to One), in place."""
    await _prospect(session, client_id)
    cancelled = await cancel_follow_ups(session, client_id)
    if data.to == "one":
        await config.switch_dashboard(session, client_id, "one", elio_lab_enabled=False)
    await clients.update_client(session, client_id, ClientUpdate(status=data.to), lifecycle=data.to == "one")
    dashboard = (await config.get_config(session, client_id)).dashboard_type
    result = ConversionRead(
        client_id=client_id, from_status="prospect", status=data.to, dashboard_type=dashboard,
        cancelled_follow_ups=len(cancelled),
    )  # fmt: skip
    await audit.record(
        session, action="prospect.converted", entity_type="client", entity_id=client_id, client_id=client_id,
        before={"status": "prospect"}, after={**result.model_dump(mode="json"), "note": data.note},
    )  # fmt: skip
    return result


async def get_company(session: UserSession, client_id: UUID) -> CompanyRead:
    await clients.require_client(session, client_id)  # 404 for another client's member
    row = await repository.get_company(session, client_id)
    if row is None:
        raise CompanyNotFound()
    return CompanyRead(**dict(row))
