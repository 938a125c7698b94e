"""The whole funnel in one test: a Cal.com booking → prospect, appointment and room → the video link
written back by a job → the pre-visio form with a SIRET → the visio (LiveKit and Cal.com webhooks) →
status hot → its follow-up reminders fire when due → conversion to a Lab client with its history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import respx
from livekit import api

from services.reminders.jobs import fire_due_reminders
from tests.agenda.conftest import CALCOM_API, at, created, deliver, meeting_ended, run_jobs
from tests.conftest import World
from tests.integrations.test_livekit import FakeTwirp
from tests.meetings.conftest import deliver as deliver_livekit
from tests.meetings.conftest import room_event

GANYMEDE = "88087814500015"


async def test_booking_to_lab_client(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, world: World,
    twirp: tuple[FakeTwirp, str], fixture_json: Callable[[str], Any],
) -> None:  # fmt: skip
    operator = await world.user("mikl@example.com", operator=True)
    await sql.execute("""update auth.users set raw_app_meta_data = '{"role": "operator"}' where id = $1""", operator.id)

    # 1. The booking: a prospect, its appointment and a room; nothing sent to a vendor yet.
    booking = created("bk-funnel", at(2), email="camille@example.com", name="Camille Martin")
    assert (await deliver(client, booking)).status_code == 200
    appointment = await sql.fetchrow("select * from appointments where calcom_booking_uid = 'bk-funnel'")
    assert appointment is not None and appointment["status"] == "booked"
    client_id, link = appointment["client_id"], appointment["video_url"]
    assert await sql.fetchval("select status from clients where id = $1", client_id) == "prospect"

    # 2. The jobs: the room created on LiveKit, the link written back to the Cal.com booking.
    twirp[0].add("livekit.RoomService/CreateRoom", api.Room(sid="RM_1", name="room"))
    async with respx.mock(assert_all_called=True) as mock:
        written = mock.patch(f"{CALCOM_API}/bookings/bk-funnel/location").respond(
            200, json={"status": "success", "data": {"id": 100, "uid": "bk-funnel", "status": "accepted",
                                                      "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T10:30:00Z",
                                                      "location": link}},
        )  # fmt: skip
        await run_jobs(app)
    assert json.loads(written.calls.last.request.content)["location"]["link"] == link

    # 3. The pre-visio form through that link, with a SIRET.
    token = link.rsplit("/", 1)[1]
    async with respx.mock(assert_all_called=True) as mock:
        mock.get("https://recherche-entreprises.api.gouv.fr/search").respond(
            200, json=fixture_json("recherche_entreprises_search_by_siret")["response"]
        )
        answer = await client.post(f"/api/v1/previsio/{token}", json={"phone": "0612345678", "siret": GANYMEDE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["company"]["legal_name"] == "GANYMEDE" and answer.json()["join"]["token"]

    # 4. The visio: LiveKit says the room ran, Cal.com that the meeting ended.
    room = f"foxeo-{appointment['meeting_id']}"
    for event_id, event in (("EV_1", "room_started"), ("EV_2", "room_finished")):
        assert (await deliver_livekit(client, room_event(event, event_id, room))).status_code == 200
    assert await sql.fetchval("select status from meetings where room_name = $1", room) == "ended"
    assert (await deliver(client, meeting_ended(booking))).status_code == 200
    assert await sql.fetchval("select status from appointments where id = $1", appointment["id"]) == "done"

    # 5. Hot, with a note: follow-ups at J+1 and J+3, each with a suggested message.
    hot = await client.post(
        f"/api/v1/prospects/{client_id}/status", headers=operator.headers,
        json={"temperature": "hot", "note": "Prête à démarrer en janvier"},
    )  # fmt: skip
    assert hot.status_code == 201, hot.text
    assert [r["title"][:30] for r in hot.json()["follow_ups"]] == [
        "Relancer GANYMEDE (J+1, hot)",
        "Relancer GANYMEDE (J+3, hot)",
    ]

    # 6. The first one comes due (a day later): the engine notifies the operator, once.
    await sql.execute(
        "update reminders set due_at = now() - interval '1 minute'"
        " where kind = 'prospects.follow_up' and due_at < now() + interval '2 days'"
    )
    async with app.state.job_context.db.service_session() as session:
        assert await fire_due_reminders(session) == 1
        assert await fire_due_reminders(session) == 0
    notes = await sql.fetch(
        "select title from notifications where user_id = $1 and title like 'Relancer%'", operator.id
    )
    assert [n["title"] for n in notes] == ["Relancer GANYMEDE (J+1, hot)"]

    # 7. Converted into a Lab client: the same client, its history intact, the last follow-up withdrawn.
    converted = await client.post(
        f"/api/v1/prospects/{client_id}/convert", headers=operator.headers, json={"to": "lab"}
    )
    assert converted.status_code == 200, converted.text
    assert converted.json() == {
        "client_id": str(client_id), "from_status": "prospect", "status": "lab", "dashboard_type": "lab",
        "cancelled_follow_ups": 1,
    }  # fmt: skip
    detail = (await client.get(f"/api/v1/clients/{client_id}", headers=operator.headers)).json()
    assert (detail["status"], detail["prospect_temperature"], detail["siret"]) == ("lab", "hot", GANYMEDE)
    history = await client.get(f"/api/v1/agenda/clients/{client_id}/appointments", headers=operator.headers)
    assert history.status_code == 200
    assert [(a["calcom_booking_uid"], a["status"]) for a in history.json()["items"]] == [("bk-funnel", "done")]
    company = await client.get(f"/api/v1/prospects/{client_id}/company", headers=operator.headers)
    assert company.status_code == 200 and company.json()["vat_number"] == "FR09880878145"
    assert await sql.fetchval("select count(*) from meetings where client_id = $1", client_id) == 1
    actions = [
        r[0] for r in await sql.fetch("select action from audit_log where client_id = $1 order by id", client_id)
    ]
    for action in ("client.created", "appointment.booked", "appointment.previsio_submitted", "appointment.done",
                   "prospect.status_set", "prospect.converted"):  # fmt: skip
        assert action in actions, action
