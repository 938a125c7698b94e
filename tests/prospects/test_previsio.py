"""The pre-visio form: one signed link reaches one prospect's form and nothing else; the SIRET is
looked up on INSEE (with a key) or recherche-entreprises (without), and a missing company or a lookup
that is down never keeps the prospect out of the meeting."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import respx

from services.agenda import links
from services.agenda.schemas import AppointmentRead
from services.core.settings import Settings
from tests.agenda.conftest import run_jobs
from tests.meetings.conftest import KEY, SECRET
from tests.prospects.conftest import Booked, book

URL = "/api/v1/previsio"
GANYMEDE = "88087814500015"  # in tests/fixtures/recherche_entreprises_search_by_siret.json
INSEE_SIRET = "12000015300011"  # in tests/fixtures/insee_sirene_siret_v3_response.json
RECHERCHE = "https://recherche-entreprises.api.gouv.fr/search"
UNKNOWN = "73282932000074"  # valid Luhn, answered "no result"


async def test_the_link_opens_its_own_prospects_form_only(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked, settings: Settings
) -> None:
    other = await book(client, sql, "bk-2", "dominique@example.com")
    response = await client.get(f"{URL}/{booked.token}")
    assert response.status_code == 200, response.text
    form = response.json()
    assert (form["first_name"], form["submitted_at"], form["phone"]) == ("Camille", None, None)
    assert form["appointment"]["status"] == "booked"
    # The parts of two genuine links recombined, a client id swapped, an edited signature: all refused.
    a, b = booked.token.split("."), other.token.split(".")
    forged = [
        ".".join([b[0], *a[1:]]),
        ".".join([a[0], b[1], *a[2:]]),
        ".".join([*a[:3], b[3]]),
        ".".join([*a[:2], str(int(a[2]) + 86400), a[3]]),
        booked.token[:-2] + ("AA" if not booked.token.endswith("AA") else "BB"),
    ]
    for token in forged:
        for response in (
            await client.get(f"{URL}/{token}"),
            await client.post(f"{URL}/{token}", json={"phone": "0612345678", "city": "Lyon"}),
        ):
            assert response.status_code == 401, token
            assert response.json()["code"] == "previsio_link_invalid"
    assert await sql.fetchval("select count(*) from clients where phone is not null") == 0
    assert (await client.get(f"{URL}/{other.token}")).json()["first_name"] == "Camille"  # its own form


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, sql: asyncpg.Connection, settings: Settings
) -> None:
    past = await book(client, sql, "bk-old", "ancien@example.com", days=-3)
    row = await sql.fetchrow("select * from appointments where id = $1", past.appointment_id)
    assert row is not None
    appointment = AppointmentRead(**{**dict(row), "booking_answers": json.loads(row["booking_answers"])})
    token = links.sign(settings, appointment).url.rsplit("/", 1)[1]
    response = await client.get(f"{URL}/{token}")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    # The same link was good until a day after the appointment ended (not "2 days ago": that depends on
    # the time of day the test runs).
    assert links.verify(settings, token, now=row["ends_at"] + timedelta(hours=23))[0] == past.appointment_id


async def test_siret_found_by_recherche_entreprises_fills_the_client_and_gives_the_join_token(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked, fixture_json: Callable[[str], Any]
) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(RECHERCHE).respond(200, json=fixture_json("recherche_entreprises_search_by_siret")["response"])
        response = await client.post(f"{URL}/{booked.token}", json={"phone": "06 12 34 56 78", "siret": GANYMEDE})
    assert response.status_code == 200, response.text
    assert route.calls.last.request.url.params["q"] == GANYMEDE
    body = response.json()
    company = body["company"]
    assert (company["lookup_status"], company["source"], company["legal_name"]) == (
        "found", "recherche-entreprises", "GANYMEDE",
    )  # fmt: skip
    assert (company["vat_number"], company["naf_code"], company["creation_date"]) == (
        "FR09880878145", "62.02A", "2020-01-13",
    )  # fmt: skip
    assert company["address_lines"] == ["128 RUE LA BOETIE"]
    claims = jwt.decode(body["join"]["token"], SECRET, algorithms=["HS256"], issuer=KEY)
    assert claims["sub"] == f"prospect-{booked.client_id}"
    assert claims["video"]["room"] == f"foxeo-{booked.meeting_id}" and not claims["video"].get("roomAdmin")
    prospect = await sql.fetchrow("select * from clients where id = $1", booked.client_id)
    assert prospect is not None
    assert (prospect["phone"], prospect["siret"], prospect["city"], prospect["company_name"]) == (
        "06 12 34 56 78", GANYMEDE, "PARIS 8", "GANYMEDE",
    )  # fmt: skip
    assert await sql.fetchval("select previsio_submitted_at is not null from appointments") is True
    form = (await client.get(f"{URL}/{booked.token}")).json()
    assert (form["siret"], form["phone"]) == (GANYMEDE, "06 12 34 56 78") and form["submitted_at"]


async def test_unknown_siret_is_kept_as_typed_and_flagged(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked
) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(RECHERCHE).respond(200, json={"results": [], "total_results": 0, "page": 1, "per_page": 1})
        response = await client.post(f"{URL}/{booked.token}", json={"phone": "0612345678", "siret": UNKNOWN})
    assert response.status_code == 200, response.text
    company = response.json()["company"]
    assert (company["lookup_status"], company["siret"], company["legal_name"]) == (
        "not_found_kept_as_typed",
        UNKNOWN,
        None,
    )
    assert company["vat_number"] == "FR44732829320"
    assert await sql.fetchval("select siret from clients where id = $1", booked.client_id) == UNKNOWN
    assert response.json()["join"] is not None
    assert await sql.fetchval("select count(*) from jobs where kind = 'prospects.lookup_company'") == 0


async def test_a_lookup_that_is_down_never_blocks_and_is_retried_by_a_job(
    app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked, fixture_json: Callable[[str], Any]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"company_lookup_timeout_seconds": 0.3})
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(RECHERCHE).respond(503, text="Service Unavailable")
        response = await client.post(f"{URL}/{booked.token}", json={"phone": "0612345678", "siret": GANYMEDE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["company"]["lookup_status"] == "lookup_unavailable" and body["join"] is not None
    assert await sql.fetchval("select siret from clients where id = $1", booked.client_id) == GANYMEDE
    await sql.execute("update jobs set status = 'done' where kind <> 'prospects.lookup_company'")
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(RECHERCHE).respond(200, json=fixture_json("recherche_entreprises_search_by_siret")["response"])
        await run_jobs(app)
    assert await sql.fetchval("select status from jobs where kind = 'prospects.lookup_company'") == "done"
    company = await sql.fetchrow("select * from client_companies where client_id = $1", booked.client_id)
    assert company is not None and (company["lookup_status"], company["legal_name"]) == ("found", "GANYMEDE")
    assert await sql.fetchval("select company_name from clients where id = $1", booked.client_id) == "GANYMEDE"


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "0612345678", "siret": "88087814500016"},  # Luhn
        {"phone": "0612345678", "siret": "8808781450001"},  # 13 digits
        {"phone": "0612345678"},  # neither SIRET nor city
        {"siret": GANYMEDE},  # no phone
        {"phone": "0612345678", "city": "Lyon", "extra": 1},
    ],
)
async def test_invalid_answers_are_422_and_write_nothing(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked, body: dict[str, Any]
) -> None:
    before = await sql.fetchval("select count(*) from audit_log")
    async with respx.mock(assert_all_called=False) as mock:
        route = mock.get(RECHERCHE)
        response = await client.post(f"{URL}/{booked.token}", json=body)
    assert response.status_code == 422, response.text
    assert not route.called
    assert await sql.fetchval("select count(*) from audit_log") == before
    assert await sql.fetchval("select count(*) from client_companies") == 0


async def test_city_only_and_a_cancelled_appointment(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked
) -> None:
    response = await client.post(f"{URL}/{booked.token}", json={"phone": "0612345678", "city": "Lyon"})
    assert response.status_code == 200 and response.json()["company"] is None
    assert await sql.fetchval("select city from clients where id = $1", booked.client_id) == "Lyon"
    await sql.execute("update appointments set status = 'cancelled' where id = $1", booked.appointment_id)
    closed = await client.post(f"{URL}/{booked.token}", json={"phone": "0612345678", "city": "Lyon"})
    assert closed.status_code == 409
