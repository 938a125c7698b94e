"""integrations/pennylane/changelogs.py and exports.py against Pennylane's shapes (tests/fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from integrations.errors import RequestError, TransientError
from integrations.pennylane import CustomerInvoice, PennylaneClient
from integrations.pennylane.changelogs import ChangelogWindowError, PennylaneChangelogs
from integrations.pennylane.exports import PennylaneExports
from tests.integrations.fake_clock import Sleeper

BASE = "https://app.pennylane.com/api/external/v2"
NOW = datetime(2026, 7, 8, 13, 0, tzinfo=UTC)
S3_HOST = "pennylane-exports.s3.eu-west-3.amazonaws.com"
Load = Callable[[str], Any]


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def changelogs(sleeper: Sleeper) -> AsyncIterator[PennylaneChangelogs]:
    async with PennylaneClient("pl-token", sleep=sleeper, now=lambda: NOW) as client:
        yield PennylaneChangelogs(client, now=lambda: NOW)


async def test_a_page_from_the_last_processed_instant(
    mock: respx.MockRouter, changelogs: PennylaneChangelogs, fixture_json: Load
) -> None:
    recorded = fixture_json("pennylane_changelog_customer_invoices")
    route = mock.get("/changelogs/customer_invoices").mock(return_value=httpx.Response(200, json=recorded["response"]))
    page = await changelogs.page("customer_invoices", since=datetime(2026, 7, 8, tzinfo=UTC))
    assert route.calls[0].request.url.params["start_date"] == recorded["_request"]["query"]["start_date"]
    assert route.calls[0].request.url.params["limit"] == "1000"
    assert [e.operation for e in page.items] == ["insert", "update", "insert", "update", "update"]
    assert page.has_more and page.next_cursor == "MjAyNi0wNy0wOFQxMjowNjo0NC44ODM1NzZa"


async def test_a_429_waits_the_retry_after_it_names(
    mock: respx.MockRouter, changelogs: PennylaneChangelogs, sleeper: Sleeper, fixture_json: Load
) -> None:
    throttled = httpx.Response(
        429, text="Rate limit exceeded. Please retry in 3 seconds.", headers={"retry-after": "3"}
    )
    empty = httpx.Response(200, json={"items": [], "has_more": False, "next_cursor": None})
    mock.get("/changelogs/quotes").mock(side_effect=[throttled, empty])
    assert (await changelogs.page("quotes", cursor="abc")).items == []
    assert sleeper.sleeps == [3.0]


async def test_a_start_outside_the_window_is_refused_before_or_by_pennylane(
    mock: respx.MockRouter, changelogs: PennylaneChangelogs
) -> None:
    with pytest.raises(ChangelogWindowError):
        await changelogs.page("products", since=NOW - timedelta(weeks=5))
    body = {"error": "unprocessable_entity", "message": "start_date must be within the last 4 weeks"}
    mock.get("/changelogs/products").mock(return_value=httpx.Response(422, json=body))
    with pytest.raises(ChangelogWindowError) as refused:
        await changelogs.page("products", since=NOW - timedelta(weeks=4) + timedelta(minutes=1))
    assert isinstance(refused.value, RequestError) and refused.value.status_code == 422


async def test_fetch_is_none_for_a_deleted_resource(
    mock: respx.MockRouter, changelogs: PennylaneChangelogs, fixture_json: Load
) -> None:
    invoice = fixture_json("pennylane_customer_invoice_get_finalized_upcoming")["response"]
    mock.get(f"/customer_invoices/{invoice['id']}").mock(return_value=httpx.Response(200, json=invoice))
    mock.get("/customer_invoices/1").mock(return_value=httpx.Response(404, json=fixture_json("pennylane_error_404")))
    fetched = await changelogs.fetch("customer_invoices", invoice["id"])
    assert isinstance(fetched, CustomerInvoice) and fetched.status == "upcoming"
    assert await changelogs.fetch("customer_invoices", 1) is None


async def test_listing_walks_by_ascending_id(
    mock: respx.MockRouter, changelogs: PennylaneChangelogs, fixture_json: Load
) -> None:
    recorded = fixture_json("pennylane_customers_list")["response"]
    route = mock.get("/customers").mock(return_value=httpx.Response(200, json=recorded))
    page = await changelogs.listing("customers", "next")
    assert route.calls[0].request.url.params["sort"] == "id"
    assert route.calls[0].request.url.params["cursor"] == "next"
    assert [c.id for c in page.items] == [c["id"] for c in recorded["items"]]


async def test_fec_export_is_created_polled_and_downloaded(mock: respx.MockRouter, fixture_json: Load) -> None:
    created = fixture_json("pennylane_fec_export_create_docexample")
    ready = fixture_json("pennylane_fec_export_ready_docexample")["response"]
    post = mock.post("/exports/fecs").mock(return_value=httpx.Response(201, json=created["response"]))
    pending = {**created["response"]}
    mock.get("/exports/fecs/124").mock(side_effect=[httpx.Response(200, json=pending), httpx.Response(200, json=ready)])
    file_route = mock.route(host=S3_HOST).mock(return_value=httpx.Response(200, content=b"JournalCode|..."))
    async with PennylaneClient("pl-token") as client:
        exports = PennylaneExports(client)
        export = await exports.create_fec(date(2026, 1, 1), date(2026, 6, 30))
        assert post.calls[0].request.content == b'{"period_start":"2026-01-01","period_end":"2026-06-30"}'
        assert export.status == "pending" and not export.ready
        assert not (await exports.get_fec(export.id)).ready
        done = await exports.get_fec(export.id)
        assert done.ready
        assert b"".join([chunk async for chunk in exports.download(done)]) == b"JournalCode|..."
    assert "authorization" not in file_route.calls[0].request.headers  # a pre-signed link: no token leaks


async def test_a_failed_download_is_transient(mock: respx.MockRouter, fixture_json: Load) -> None:
    ready = fixture_json("pennylane_fec_export_ready_docexample")["response"]
    mock.route(host=S3_HOST).mock(return_value=httpx.Response(403, text="Request has expired"))
    async with PennylaneClient("pl-token") as client:
        export = PennylaneExports(client)
        with pytest.raises(TransientError):
            async for _ in export.download(await _ready(client, mock, ready)):
                pass


async def _ready(client: PennylaneClient, mock: respx.MockRouter, body: dict[str, Any]) -> Any:
    mock.get("/exports/fecs/124").mock(return_value=httpx.Response(200, json=body))
    return await PennylaneExports(client).get_fec(124)
