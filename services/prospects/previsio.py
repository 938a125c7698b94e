"""The pre-visio waiting room: a prospect without an account opens the signed link of their appointment
(services/agenda/links.py), gives a phone number and a SIRET (or a city), and gets the way into the
meeting. The SIRET is looked up between two short transactions, never inside one; a lookup that is down
never keeps the prospect out: the SIRET is kept as typed, flagged, and looked up again by a job."""

from __future__ import annotations

from uuid import UUID

from integrations.company_lookup import CompanyLookup
from integrations.livekit import LiveKitClient
from services.agenda import links
from services.agenda import service as agenda
from services.agenda.errors import AppointmentClosed, AppointmentNotFound, PrevisioLinkInvalid
from services.agenda.schemas import AppointmentRead
from services.audit import service as audit
from services.clients import service as clients
from services.clients.schemas import ClientRead, ClientUpdate
from services.core import queue
from services.core.db import AnySession, Database
from services.core.settings import Settings
from services.meetings import service as meetings
from services.meetings.schemas import JoinToken, MeetingRead
from services.prospects import company
from services.prospects.schemas import PrevisioAnswer, PrevisioAppointment, PrevisioForm, PrevisioResult

LOOKUP_JOB = "prospects.lookup_company"
OPEN = ("booked",)


async def _appointment(session: AnySession, settings: Settings, token: str) -> tuple[AppointmentRead, ClientRead]:
    """The one appointment and client the token names; the same 401 for anything else."""
    appointment_id, client_id = links.verify(settings, token)
    try:
        appointment = await agenda.load(session, appointment_id)
    except AppointmentNotFound:
        raise PrevisioLinkInvalid("this pre-visio link is not valid") from None
    if appointment.client_id != client_id:
        raise PrevisioLinkInvalid("this pre-visio link is not valid")
    return appointment, await clients.require_client(session, client_id)


async def read_form(db: Database, settings: Settings, token: str, request_id: str | None) -> PrevisioForm:
    async with db.service_session(request_id) as session:
        appointment, client = await _appointment(session, settings, token)
    return PrevisioForm(
        first_name=client.contact_first_name,
        appointment=PrevisioAppointment(**appointment.model_dump(include={"title", "starts_at", "ends_at", "status"})),
        phone=client.phone, siret=client.siret, city=client.city, submitted_at=appointment.previsio_submitted_at,
    )  # fmt: skip


async def submit(
    db: Database, settings: Settings, lookup: CompanyLookup, livekit: LiveKitClient, token: str,
    data: PrevisioAnswer, request_id: str | None,
) -> PrevisioResult:  # fmt: skip
    async with db.service_session(request_id) as session:  # who and what, before any vendor call
        appointment, _ = await _appointment(session, settings, token)
    if appointment.status not in OPEN:
        raise AppointmentClosed(f"the appointment is {appointment.status}")
    found = None
    if data.siret is not None:
        found = await company.look_up(lookup, data.siret, deadline=settings.company_lookup_timeout_seconds)
    async with db.service_session(request_id) as session:
        appointment, client = await _appointment(session, settings, token)
        saved = await company.save(session, client.id, found) if found else None
        await clients.update_client(session, client.id, _client_changes(client, data, found))
        if found is not None and found.status == "lookup_unavailable":
            await queue.enqueue(
                session, LOOKUP_JOB, {"client_id": str(client.id), "siret": found.siret},
                idempotency_key=f"{LOOKUP_JOB}:{client.id}:{found.siret}", client_id=client.id,
            )  # fmt: skip
        after = await agenda.mark_previsio_submitted(session, appointment.id)
        await audit.record(
            session, action="appointment.previsio_submitted", entity_type="appointment", entity_id=appointment.id,
            client_id=client.id, before=appointment, after=after,
        )  # fmt: skip
        meeting = await meetings.meeting_for_job(session, after.meeting_id) if after.meeting_id else None
    join = _join(settings, livekit, meeting, client) if meeting else None
    return PrevisioResult(company=saved, join=join)


def _client_changes(client: ClientRead, data: PrevisioAnswer, found: company.Lookup | None) -> ClientUpdate:
    changes: dict[str, object] = {"phone": data.phone}
    if data.siret is not None:
        changes["siret"] = data.siret
    looked_up = found.company if found else None
    if data.city or (looked_up and looked_up.city):
        changes["city"] = (data.city or (looked_up.city if looked_up else None) or "")[:100]
    if looked_up and looked_up.legal_name and client.status == "prospect":
        changes["company_name"] = looked_up.legal_name[:200]
    return ClientUpdate(**changes)


def _join(settings: Settings, livekit: LiveKitClient, meeting: MeetingRead, client: ClientRead) -> JoinToken:
    name = " ".join(p for p in (client.contact_first_name, client.contact_last_name) if p) or client.company_name
    return meetings.guest_join_token(livekit, settings, meeting, f"prospect-{client.id}", name[:200])


async def lookup_again(db: Database, lookup: CompanyLookup, client_id: UUID, siret: str) -> bool:
    """The job's retry of a lookup that was down; False while it still is (the job retries)."""
    result = await company.look_up(lookup, siret, deadline=None)
    if result.status == "lookup_unavailable":
        return False
    async with db.service_session() as session:
        current = await clients.require_client(session, client_id)
        if current.siret == siret:  # not changed since: the answer still applies
            await company.save(session, client_id, result)
            if result.company and result.company.legal_name and current.status == "prospect":
                await clients.update_client(
                    session, client_id, ClientUpdate(company_name=result.company.legal_name[:200])
                )
    return True
