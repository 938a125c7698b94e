"""The shared HTTP layer: retries, Retry-After, budget, typed errors, rate limiting (no real waiting)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from integrations._http import RateLimiter, RetryPolicy, VendorHTTP, parse_retry_after
from integrations.errors import IntegrationError, NotFoundError, RequestError, TransientError
from tests.integrations.fake_clock import FakeTime

BASE = "https://vendor.test/api"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def make_http(fake_time: FakeTime) -> AsyncIterator[Callable[..., VendorHTTP]]:
    clients: list[VendorHTTP] = []

    def make(**kwargs: object) -> VendorHTTP:
        client = VendorHTTP("acme", BASE, sleep=fake_time.sleep, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# -- Retry-After --------------------------------------------------------------------------------------


def test_parse_retry_after_seconds_and_garbage() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") is None


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 7, 8, 12, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("Wed, 08 Jul 2026 12:00:30 GMT", now=now) == 30.0
    # "-0000" parses to a naive datetime: still UTC, whatever the host's zone.
    assert parse_retry_after("Wed, 08 Jul 2026 12:00:30 -0000", now=now) == 30.0
    assert parse_retry_after("Wed, 08 Jul 2026 11:59:00 GMT", now=now) == 0.0


async def test_429_waits_retry_after_seconds_then_succeeds(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    route = mock.get("/things").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}, text="Rate limit exceeded."),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    assert await make_http().json("GET", "/things") == {"ok": True}
    assert route.call_count == 2
    assert fake_time.sleeps == [2.0]


async def test_429_waits_retry_after_http_date(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    mock.get("/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={})]
    )
    await make_http().request("GET", "/things")
    [waited] = fake_time.sleeps
    assert 8.0 < waited <= 10.0  # the date has whole seconds


# -- which calls are retried --------------------------------------------------------------------------


async def test_503_on_get_is_retried_with_backoff(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    route = mock.get("/things").mock(side_effect=[httpx.Response(503), httpx.Response(200, json=[])])
    await make_http(retry=RetryPolicy(base_delay=0.5)).request("GET", "/things")
    assert route.call_count == 2
    assert len(fake_time.sleeps) == 1 and 0.0 <= fake_time.sleeps[0] <= 0.5


async def test_503_on_post_is_not_retried(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    route = mock.post("/things").mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError) as caught:
        await make_http().request("POST", "/things", json={"a": 1})
    assert route.call_count == 1
    assert caught.value.status_code == 503
    assert fake_time.sleeps == []


async def test_post_marked_idempotent_is_retried(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    route = mock.post("/search").mock(side_effect=[httpx.Response(502), httpx.Response(200, json={})])
    await make_http().request("POST", "/search", idempotent=True)
    assert route.call_count == 2


async def test_post_is_retried_after_429_but_not_after_a_following_503(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    route = mock.post("/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(503)]
    )
    with pytest.raises(TransientError) as caught:
        await make_http().request("POST", "/things")
    assert caught.value.status_code == 503
    assert route.call_count == 2
    assert fake_time.sleeps == [1.0]


@pytest.mark.parametrize("status", [500, 501, 505])
async def test_other_5xx_are_transient_but_not_retried(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime, status: int
) -> None:
    # Only 429/502/503/504 say "try again"; a 500 or 501 would most likely fail the same way again.
    route = mock.get("/things").mock(return_value=httpx.Response(status))
    with pytest.raises(TransientError) as caught:
        await make_http().request("GET", "/things")
    assert caught.value.status_code == status
    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_undecodable_body_is_transient_and_retried_when_idempotent(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    route = mock.get("/things").mock(
        side_effect=[httpx.DecodingError("bad gzip"), httpx.Response(200, json={"ok": True})]
    )
    assert await make_http().json("GET", "/things") == {"ok": True}
    assert route.call_count == 2


async def test_success_without_json_body_is_an_integration_error(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    # e.g. a captive proxy answering 200 with an HTML page: a typed vendor error, never a bare ValueError.
    mock.get("/things").mock(return_value=httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(IntegrationError, match="not JSON") as caught:
        await make_http().json("GET", "/things")
    assert type(caught.value) is IntegrationError
    assert caught.value.vendor == "acme"


async def test_timeout_becomes_transient_error_once_retries_are_spent(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    route = mock.get("/slow").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(TransientError, match="timeout on GET /slow"):
        await make_http(retry=RetryPolicy(max_attempts=3)).request("GET", "/slow")
    assert route.call_count == 3


async def test_read_timeout_on_post_is_not_retried(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    route = mock.post("/slow").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(TransientError):
        await make_http().request("POST", "/slow")
    assert route.call_count == 1


async def test_connect_error_on_post_is_retried(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    # The request never left: sending it again cannot duplicate anything.
    route = mock.post("/things").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={"id": 1})])
    assert await make_http().json("POST", "/things") == {"id": 1}
    assert route.call_count == 2


async def test_attempts_are_capped(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    route = mock.get("/things").mock(return_value=httpx.Response(504))
    with pytest.raises(TransientError) as caught:
        await make_http(retry=RetryPolicy(max_attempts=4)).request("GET", "/things")
    assert route.call_count == 4
    assert caught.value.status_code == 504


# -- retry budget -------------------------------------------------------------------------------------


async def test_retry_budget_stops_retries(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    route = mock.get("/things").mock(return_value=httpx.Response(429, headers={"Retry-After": "3"}))
    with pytest.raises(TransientError) as caught:
        await make_http(retry=RetryPolicy(max_attempts=10, budget=5.0)).request("GET", "/things")
    assert route.call_count == 2  # 3 s fits the 5 s budget, a second 3 s does not
    assert fake_time.sleeps == [3.0]
    assert caught.value.retry_after == 3.0


async def test_retry_after_beyond_budget_fails_at_once(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    mock.get("/things").mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(TransientError) as caught:
        await make_http(retry=RetryPolicy(budget=30.0)).request("GET", "/things")
    assert fake_time.sleeps == []
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 120.0


# -- typed errors -------------------------------------------------------------------------------------


async def test_4xx_is_a_request_error_with_vendor_message_and_body(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    body = {
        "error": "unprocessable_entity",
        "message": "Missing required field: customer_id",
        "details": {"field": "customer_id", "issue": "is required"},
    }
    route = mock.post("/invoices").mock(return_value=httpx.Response(422, json=body))
    with pytest.raises(RequestError) as caught:
        await make_http().request("POST", "/invoices", json={})
    assert not isinstance(caught.value, NotFoundError)
    assert caught.value.status_code == 422
    assert caught.value.vendor == "acme"
    assert caught.value.vendor_message == "Missing required field: customer_id"
    assert caught.value.body == body
    assert route.call_count == 1


async def test_4xx_with_text_body(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    mock.get("/things").mock(return_value=httpx.Response(403, text="missing scope"))
    with pytest.raises(RequestError) as caught:
        await make_http().request("GET", "/things")
    assert caught.value.vendor_message == "missing scope"
    assert caught.value.body == "missing scope"


async def test_404_is_not_found(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    body = {"status": 404, "error": "No Pro Account associated with the company"}
    route = mock.get("/things/1").mock(return_value=httpx.Response(404, json=body))
    with pytest.raises(NotFoundError) as caught:
        await make_http().request("GET", "/things/1")
    assert caught.value.vendor_message == "No Pro Account associated with the company"
    assert caught.value.body == body
    assert route.call_count == 1  # a 4xx is never retried


async def test_expected_status_is_returned_not_raised(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]
) -> None:
    mock.post("/send").mock(return_value=httpx.Response(409, json={"error": "later"}))
    response = await make_http().request("POST", "/send", expected=(409,))
    assert response.status_code == 409


async def test_json_of_an_empty_body_is_none(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    mock.put("/things/1/done").mock(return_value=httpx.Response(204))
    assert await make_http().json("PUT", "/things/1/done") is None


# -- rate limiting ------------------------------------------------------------------------------------


async def test_rate_limiter_sliding_window(fake_time: FakeTime) -> None:
    limiter = RateLimiter(3, 5.0, clock=fake_time.clock, sleep=fake_time.sleep)
    for _ in range(3):  # starts at t=0, 1, 2
        await limiter.acquire()
        fake_time.now += 1.0
    assert fake_time.sleeps == []
    await limiter.acquire()  # t=3: full until the t=0 start is 5 s old
    assert fake_time.sleeps == [2.0]
    await limiter.acquire()  # t=5: the t=1 start still counts for one more second
    assert fake_time.sleeps == [2.0, 1.0]
    fake_time.now += 10.0
    await limiter.acquire()  # everything has aged out
    assert fake_time.sleeps == [2.0, 1.0]


def test_rate_limiter_rejects_a_nonsense_limit() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1.0)


async def test_every_attempt_goes_through_the_limiter(
    mock: respx.MockRouter, make_http: Callable[..., VendorHTTP], fake_time: FakeTime
) -> None:
    limiter = RateLimiter(1, 10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    mock.get("/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})]
    )
    await make_http(limiter=limiter).request("GET", "/things")
    # Retry-After 1 s, then the limiter holds the retry until the first start is 10 s old.
    assert fake_time.sleeps == [1.0, 9.0]


async def test_no_real_waiting(mock: respx.MockRouter, make_http: Callable[..., VendorHTTP]) -> None:
    mock.get("/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "20"}), httpx.Response(200, json={})]
    )
    started = time.monotonic()
    await make_http().request("GET", "/things")
    assert time.monotonic() - started < 5.0
