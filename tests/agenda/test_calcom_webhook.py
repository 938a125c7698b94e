"""POST /api/v1/webhooks/calcom: the real HMAC on the raw body, each delivery applied once, and
deliveries arriving twice or out of order ending in the state they would reach in order."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import respx
from livekit import api

from tests.agenda.conftest import (
    CALCOM_API,
    GUEST,
    at,
    cancelled,
    created,
    deliver,
    meeting_ended,
    no_show,
    rescheduled,
    run_jobs,
    sign,
)
from tests.integrations.test_livekit import FakeTwirp


async def _appointments(sql: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await sql.fetch("select * from appointments")
    return {row["calcom_booking_uid"]: row for row in rows}


async def _ok(response: httpx.Response, duplicate: bool = False) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": duplicate}


async def test_booking_creates_prospect_appointment_and_room_then_a_job_writes_the_link(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, twirp: tuple[FakeTwirp, str]
) -> None:
    twirp[0].add("livekit.RoomService/CreateRoom", api.Room(sid="RM_1", name="room"))
    booking = created("bk-1", at(3))
    await _ok(await deliver(client, booking))
    prospect = await sql.fetchrow("select * from clients where email = $1", GUEST)
    assert prospect is not None and prospect["status"] == "prospect"
    assert (prospect["company_name"], prospect["contact_first_name"], prospect["contact_last_name"]) == (
        "Guest User", "Guest", "User",
    )  # fmt: skip
    row = (await _appointments(sql))["bk-1"]
    assert (row["client_id"], row["status"], row["source"]) == (prospect["id"], "booked", "calcom")
    assert json.loads(row["booking_answers"])["notes"]["value"] == "Je lance mon activité"
    meeting = await sql.fetchrow("select * from meetings where id = $1", row["meeting_id"])
    assert meeting is not None and (meeting["client_id"], meeting["created_by"]) == (prospect["id"], None)
    assert row["video_url"].startswith("https://app.foxeo.test/previsio/")
    jobs = await sql.fetch("select kind from jobs order by created_at")
    assert {j["kind"] for j in jobs} == {"agenda.write_video_link", "meetings.create_room"}

    async with respx.mock(assert_all_called=True) as mock:
        route = mock.patch(f"{CALCOM_API}/bookings/bk-1/location").respond(
            200, json={"status": "success", "data": {"id": 100, "uid": "bk-1", "status": "accepted",
                                                      "start": booking["payload"]["startTime"],
                                                      "end": booking["payload"]["endTime"],
                                                      "location": row["video_url"]}},
        )  # fmt: skip
        await run_jobs(app)
    sent = route.calls.last.request
    assert json.loads(sent.content) == {"location": {"type": "link", "link": row["video_url"]}}
    assert sent.headers["Authorization"] == "Bearer cal_live_test"
    assert {r["kind"]: r["status"] for r in await sql.fetch("select kind, status from jobs")} == {
        "agenda.write_video_link": "done", "meetings.create_room": "done",
    }  # fmt: skip
    actions = {r[0] for r in await sql.fetch("select action from audit_log")}
    assert {"client.created", "appointment.booked", "meeting.opened_for_booking"} <= actions


async def test_the_write_back_is_retried_when_calcom_fails(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    await _ok(await deliver(client, created("bk-1", at(3))))
    await sql.execute("update jobs set status = 'done' where kind = 'meetings.create_room'")
    async with respx.mock(assert_all_called=True) as mock:
        mock.patch(f"{CALCOM_API}/bookings/bk-1/location").respond(502, json={"status": "error"})
        await run_jobs(app)
    job = await sql.fetchrow(
        "select status, last_error, run_after > now() as later from jobs where kind like 'agenda.%'"
    )
    assert job is not None and (job["status"], job["later"]) == ("failed", True) and job["last_error"]


async def test_duplicates_are_applied_once(client: httpx.AsyncClient, sql: asyncpg.Connection) -> None:
    booking = created("bk-1", at(3))
    await _ok(await deliver(client, booking))
    await _ok(await deliver(client, booking), duplicate=True)
    assert await sql.fetchval("select count(*) from clients") == 1
    assert await sql.fetchval("select count(*) from appointments") == 1
    assert await sql.fetchval("select count(*) from meetings") == 1
    assert await sql.fetchval("select count(*) from webhook_events where sender = 'calcom'") == 1
    # The same booking delivered again under another delivery time changes nothing either.
    await _ok(await deliver(client, {**booking, "createdAt": "2026-02-01T00:00:00.000Z"}))
    assert await sql.fetchval("select count(*) from appointments") == 1
    assert await sql.fetchval("select count(*) from meetings") == 1


async def test_a_second_booking_finds_the_same_prospect(client: httpx.AsyncClient, sql: asyncpg.Connection) -> None:
    await _ok(await deliver(client, created("bk-1", at(3))))
    await _ok(await deliver(client, created("bk-2", at(10), email=GUEST.upper())))
    assert await sql.fetchval("select count(*) from clients") == 1
    assert await sql.fetchval("select count(distinct client_id) from appointments") == 1


async def _session_reminders(sql: asyncpg.Connection) -> dict[str, tuple[str, Any]]:
    """Each appointment's "session tomorrow" reminder: (status, due_at) by booking uid."""
    rows = await sql.fetch(
        "select a.calcom_booking_uid, r.status, r.due_at from reminders r join appointments a"
        " on r.subject_id = a.id::text where r.kind = 'agenda.session_tomorrow'"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


async def test_reschedule_chain_then_cancellation_of_the_newest(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    first = created("bk-1", at(3))
    second = rescheduled(first, "bk-2", at(4), delivered="2026-01-02T00:00:00.000Z")
    third = rescheduled(second, "bk-3", at(5), delivered="2026-01-03T00:00:00.000Z")
    await _ok(await deliver(client, first))
    assert await _session_reminders(sql) == {"bk-1": ("pending", at(2))}
    for body in (second, third):
        await _ok(await deliver(client, body))
    assert await _session_reminders(sql) == {
        "bk-1": ("cancelled", at(2)), "bk-2": ("cancelled", at(3)), "bk-3": ("pending", at(4)),
    }  # fmt: skip
    await _ok(await deliver(client, cancelled(third, "Empêchement", delivered="2026-01-04T00:00:00.000Z")))
    rows = await _appointments(sql)
    assert {uid: r["status"] for uid, r in rows.items()} == {
        "bk-1": "rescheduled", "bk-2": "rescheduled", "bk-3": "cancelled",
    }  # fmt: skip
    assert (rows["bk-2"]["previous_booking_uid"], rows["bk-3"]["previous_booking_uid"]) == ("bk-1", "bk-2")
    assert rows["bk-3"]["cancellation_reason"] == "Empêchement"
    assert rows["bk-3"]["starts_at"] == at(5)
    assert len({r["meeting_id"] for r in rows.values()}) == 1  # the room follows the booking
    assert {status for status, _ in (await _session_reminders(sql)).values()} == {"cancelled"}
    assert await sql.fetchval("select count(*) from meetings") == 1


async def test_out_of_order_deliveries_end_in_the_same_state(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    first = created("bk-1", at(3))
    second = rescheduled(first, "bk-2", at(4))
    cancel = cancelled(second, "Plus disponible", delivered="2026-01-05T00:00:00.000Z")
    # The cancellation of the new booking, then the reschedule, then the original creation.
    for body in (cancel, second, first):
        await _ok(await deliver(client, body))
    rows = await _appointments(sql)
    assert {uid: r["status"] for uid, r in rows.items()} == {"bk-1": "rescheduled", "bk-2": "cancelled"}
    assert rows["bk-2"]["previous_booking_uid"] == "bk-1"
    assert rows["bk-2"]["cancellation_reason"] == "Plus disponible"
    assert await sql.fetchval("select count(*) from clients") == 1
    # Nothing is booked any more: no room was opened, no link is written back.
    assert await sql.fetchval("select count(*) from meetings") == 0
    assert await sql.fetchval("select count(*) from jobs where kind = 'agenda.write_video_link'") == 0


async def test_cancel_before_create_stays_cancelled(client: httpx.AsyncClient, sql: asyncpg.Connection) -> None:
    booking = created("bk-1", at(3))
    await _ok(await deliver(client, cancelled(booking, "Doublon")))
    await _ok(await deliver(client, booking))
    row = (await _appointments(sql))["bk-1"]
    assert (row["status"], row["cancellation_reason"], row["meeting_id"]) == ("cancelled", "Doublon", None)


async def test_no_show_and_meeting_ended(client: httpx.AsyncClient, sql: asyncpg.Connection) -> None:
    one, two = created("bk-1", at(-1)), created("bk-2", at(-2))
    for body in (one, two):
        await _ok(await deliver(client, body))
    await _ok(await deliver(client, no_show("bk-1", True)))
    await _ok(await deliver(client, meeting_ended(two)))
    await _ok(await deliver(client, meeting_ended(one)))  # the meeting ended without the prospect
    rows = await _appointments(sql)
    assert (rows["bk-1"]["status"], rows["bk-2"]["status"]) == ("no_show", "done")
    await _ok(await deliver(client, no_show("bk-1", False, delivered="2026-01-06T00:00:00.000Z")))  # corrected
    assert (await _appointments(sql))["bk-1"]["status"] == "done"
    await _ok(await deliver(client, meeting_ended(two)), duplicate=True)


async def test_forged_or_unsigned_deliveries_are_refused_and_write_nothing(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    body = created("bk-1", at(3))
    raw = json.dumps(body).encode()
    for signature in (sign(raw, "another-secret"), "no-secret-provided", "", sign(raw + b" ")):
        response = await deliver(client, body, signature=signature)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthorized"
    tampered = await client.post(
        "/api/v1/webhooks/calcom", content=raw.replace(b"bk-1", b"bk-9"), headers={"X-Cal-Signature-256": sign(raw)}
    )
    assert tampered.status_code == 401
    for table in ("clients", "appointments", "meetings", "webhook_events", "jobs", "audit_log"):
        assert await sql.fetchval(f"select count(*) from {table}") == 0, table


async def test_a_signed_body_that_is_not_a_calcom_event_is_a_422(
    client: httpx.AsyncClient, sql: asyncpg.Connection
) -> None:
    raw = b'["not", "an", "event"]'
    response = await client.post("/api/v1/webhooks/calcom", content=raw, headers={"X-Cal-Signature-256": sign(raw)})
    assert response.status_code == 422
    assert await sql.fetchval("select count(*) from webhook_events") == 0
