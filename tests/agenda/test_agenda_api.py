"""The operator's agenda by local day and week, manual appointments, and a client's own view."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.agenda.conftest import at
from tests.conftest import Tenant, User

URL = "/api/v1/agenda"


async def _create(client: httpx.AsyncClient, operator: User, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post(
        f"{URL}/appointments", headers=operator.headers, json={"client_id": str(tenant.id), **body}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _ids(client: httpx.AsyncClient, user: User, **params: str) -> list[str]:
    response = await client.get(f"{URL}/appointments", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_day_and_week_follow_the_users_time_zone(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    # 22:30 UTC on 10 June is 00:30 on 11 June in Paris (the profile's default time zone).
    await _create(
        client, operator, tenant_a, title="Late", starts_at="2030-06-10T22:30:00Z", ends_at="2030-06-10T23:30:00Z"
    )
    await _create(client, operator, tenant_a, title="Monday", starts_at="2030-06-10T08:00:00+02:00",
                  ends_at="2030-06-10T09:00:00+02:00")  # fmt: skip
    await _create(client, operator, tenant_a, title="Next week", starts_at="2030-06-17T08:00:00Z",
                  ends_at="2030-06-17T09:00:00Z")  # fmt: skip
    assert await _ids(client, operator, view="day", date="2030-06-11") == ["Late"]
    assert await _ids(client, operator, view="day", date="2030-06-11", tz="UTC") == []
    assert await _ids(client, operator, view="day", date="2030-06-10", tz="UTC") == ["Monday", "Late"]
    assert await _ids(client, operator, view="week", date="2030-06-13") == ["Monday", "Late"]  # Mon 10 – Sun 16
    assert await _ids(client, operator, **{"from": "2030-06-10", "to": "2030-06-17"}) == ["Monday", "Late", "Next week"]
    week = (await client.get(f"{URL}/appointments", headers=operator.headers, params={"date": "2030-06-13"})).json()
    assert (week["time_zone"], week["from_at"], week["to_at"]) == (
        "Europe/Paris", "2030-06-09T22:00:00+00:00", "2030-06-16T22:00:00+00:00",
    )  # fmt: skip


async def test_bad_ranges_and_zones_are_422(client: httpx.AsyncClient, operator: User) -> None:
    for params in (
        {"tz": "Mars/Olympus"},
        {"from": "2030-06-10", "to": "2030-06-01"},
        {"from": "2030-01-01", "to": "2030-12-31"},
        {"view": "month"},
    ):
        response = await client.get(f"{URL}/appointments", headers=operator.headers, params=params)
        assert response.status_code == 422, params


async def test_manual_appointment_lifecycle(
    client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant
) -> None:
    start = at(5)
    created = await _create(client, operator, tenant_a, title="Point", starts_at=start.isoformat(),
                            ends_at=at(5, 11).isoformat(), open_meeting=True)  # fmt: skip
    assert (created["source"], created["status"], created["meeting_id"] is not None) == ("manual", "booked", True)
    assert created["video_url"].startswith("https://app.foxeo.test/previsio/")
    reminder = "select status, due_at from reminders where kind = 'agenda.session_tomorrow' and subject_id = $1"
    assert tuple(await sql.fetchrow(reminder, created["id"]) or ()) == ("pending", at(4))
    path = f"{URL}/appointments/{created['id']}"
    moved = await client.patch(
        path, headers=operator.headers, json={"starts_at": at(6).isoformat(), "ends_at": at(6, 11).isoformat()}
    )
    assert moved.status_code == 200, moved.text
    rows = await sql.fetch(
        reminder.replace("select status, due_at", "select status") + " order by due_at", created["id"]
    )
    assert [r[0] for r in rows] == ["cancelled", "pending"]
    backwards = await client.patch(path, headers=operator.headers, json={"ends_at": at(1).isoformat()})
    assert backwards.status_code == 422
    naive = await client.patch(path, headers=operator.headers, json={"starts_at": "2030-06-10T08:00:00"})
    assert naive.status_code == 422
    cancelled = await client.post(f"{path}/cancel", headers=operator.headers, json={"reason": "Malade"})
    assert cancelled.status_code == 200 and cancelled.json()["cancellation_reason"] == "Malade"
    assert (await client.post(f"{path}/cancel", headers=operator.headers, json={"reason": "x"})).status_code == 409
    assert await sql.fetchval("select count(*) from reminders where status = 'pending'") == 0
    actions = [r[0] for r in await sql.fetch("select action from audit_log where entity_type = 'appointment'")]
    assert actions == ["appointment.created", "appointment.updated", "appointment.cancelled"]


async def test_a_client_sees_its_next_appointment_and_history_only(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    past = await _create(client, operator, tenant_a, title="Kickoff", starts_at=at(-7).isoformat(),
                         ends_at=at(-7, 11).isoformat())  # fmt: skip
    upcoming = await _create(client, operator, tenant_a, title="Suivi", starts_at=at(2).isoformat(),
                             ends_at=at(2, 11).isoformat(), open_meeting=True)  # fmt: skip
    await _create(client, operator, tenant_b, title="Autre", starts_at=at(1).isoformat(), ends_at=at(1, 11).isoformat())
    member = tenant_a.member
    nxt = await client.get(f"{URL}/clients/{tenant_a.id}/next", headers=member.headers)
    assert nxt.status_code == 200
    assert nxt.json()["appointment"]["id"] == upcoming["id"]
    assert nxt.json()["join_meeting_id"] == upcoming["meeting_id"]
    join = await client.post(f"/api/v1/meetings/{upcoming['meeting_id']}/token", headers=member.headers)
    assert join.status_code == 200
    history = await client.get(f"{URL}/clients/{tenant_a.id}/appointments", headers=member.headers, params={"limit": 1})
    assert history.status_code == 200 and [a["id"] for a in history.json()["items"]] == [upcoming["id"]]
    rest = await client.get(
        f"{URL}/clients/{tenant_a.id}/appointments",
        headers=member.headers,
        params={"cursor": history.json()["next_cursor"]},
    )
    assert rest.status_code == 200 and [a["id"] for a in rest.json()["items"]] == [past["id"]]
    assert (await client.get(f"{URL}/appointments/{past['id']}", headers=member.headers)).status_code == 200
    assert (await client.get(f"{URL}/clients/{tenant_b.id}/next", headers=member.headers)).status_code == 404
    assert (await client.get(f"{URL}/appointments", headers=member.headers)).status_code == 403
    forged = await client.get(
        f"{URL}/clients/{tenant_a.id}/appointments", headers=member.headers, params={"cursor": "x"}
    )
    assert forged.status_code == 422
    empty = await client.get(f"{URL}/clients/{tenant_b.id}/next", headers=tenant_b.member.headers)
    assert empty.status_code == 200 and empty.json()["appointment"]["title"] == "Autre"


async def test_the_operator_gets_a_previsio_link_that_opens_the_form(
    client: httpx.AsyncClient, operator: User, tenant_a: Tenant
) -> None:
    created = await _create(
        client, operator, tenant_a, title="Visio", starts_at=at(2).isoformat(), ends_at=at(2, 11).isoformat()
    )
    link = await client.post(f"{URL}/appointments/{created['id']}/previsio-link", headers=operator.headers)
    assert link.status_code == 200
    form = await client.get(f"/api/v1/previsio/{link.json()['url'].rsplit('/', 1)[1]}")
    assert form.status_code == 200 and form.json()["appointment"]["title"] == "Visio"
