"""What the Supabase Auth and Storage clients share: the `supabase` SDK's async client built on our own
httpx client (our timeouts, one connection pool, respx-mockable), and SDK failures turned into our typed
errors under our retry policy.

The SDK raises its own errors (`AuthApiError`, `AuthRetryableError`, `StorageApiError`, or a bare
`ValueError` when an answer does not parse) but always chains the httpx exception underneath; that chain
is what says whether a failure is transient, a refusal, or an answer we cannot use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from supabase import AsyncClient, AsyncClientOptions

from integrations._http import RETRYABLE_STATUSES, RetryPolicy, Sleep, _error_message, parse_retry_after
from integrations.errors import IntegrationError, NotFoundError, RequestError, TransientError

T = TypeVar("T")
StatusOf = Callable[[httpx.Response], int]


def server_key_headers(secret_key: str) -> dict[str, str]:
    """New `sb_secret_…` keys go in `apikey` only; a legacy service_role JWT also as a Bearer."""
    headers = {"apikey": secret_key}
    if not secret_key.startswith("sb_"):
        headers["Authorization"] = f"Bearer {secret_key}"
    return headers


async def _drop_bearer_api_key(request: httpx.Request) -> None:
    # The SDK always copies its key into `Authorization: Bearer`. An `sb_…` key is not a JWT
    # (integrations-reference §7.1: send it in `apikey`, not as a Bearer), so it stays in `apikey` only;
    # a legacy service_role JWT is left where the SDK put it.
    if request.headers.get("authorization", "").startswith("Bearer sb_"):
        del request.headers["authorization"]


def sdk_client(supabase_url: str, secret_key: str, http: httpx.AsyncClient) -> AsyncClient:
    """The SDK's async client sending through `http` (whose timeouts apply); nothing is sent yet.

    `AsyncClient(...)` rather than `await acreate_client(...)`: the latter only adds a look-up of a
    signed-in user's session, which a server-key client never has, and would make construction async.
    """
    http.event_hooks["request"].append(_drop_bearer_api_key)
    options = AsyncClientOptions(httpx_client=http, auto_refresh_token=False, persist_session=False)
    return AsyncClient(supabase_url, secret_key, options)


def _http_cause(exc: BaseException) -> httpx.HTTPError | None:
    """The httpx exception the SDK's error was raised from, if any."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, httpx.HTTPError):
            return current
        current = current.__cause__ or current.__context__
    return None


def refusal(vendor: str, status: int, response: httpx.Response) -> RequestError:
    """A 4xx as our typed error, with the vendor's message and parsed body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message = _error_message(body, response.reason_phrase or "request refused")
    cls = NotFoundError if status == 404 else RequestError
    return cls(vendor, status, message, body)


class SdkCalls:
    """Runs one SDK call with VendorHTTP's policy: only idempotent calls are retried after an ambiguous
    failure (read timeout, 502/503/504); any call when the vendor provably did not process it
    (connection never made, 429); refusals raise at once as RequestError/NotFoundError."""

    def __init__(
        self,
        vendor: str,
        *,
        retry: RetryPolicy = RetryPolicy(max_attempts=3),
        sleep: Sleep = asyncio.sleep,
        status_of: StatusOf = lambda response: response.status_code,
    ) -> None:
        self.vendor = vendor
        self.retry = retry
        self._sleep = sleep
        self._status_of = status_of

    async def __call__(self, what: str, call: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        started = time.monotonic()
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except Exception as exc:  # classified by the httpx error underneath, re-raised typed
                error, may_retry, wait = self._classify(what, exc, idempotent, attempt)
            spent = max(time.monotonic() - started, slept)
            if not may_retry or attempt >= self.retry.max_attempts or spent + wait > self.retry.budget:
                raise error
            await self._sleep(wait)
            slept += wait

    def _classify(
        self, what: str, exc: Exception, idempotent: bool, attempt: int
    ) -> tuple[IntegrationError, bool, float]:
        cause = _http_cause(exc)
        backoff = self.retry.backoff(attempt)
        if isinstance(cause, httpx.HTTPStatusError):
            status = self._status_of(cause.response)
            if status not in RETRYABLE_STATUSES and status < 500:
                raise refusal(self.vendor, status, cause.response) from exc
            retry_after = parse_retry_after(cause.response.headers.get("Retry-After"))
            error = TransientError(self.vendor, f"HTTP {status} on {what}", status_code=status, retry_after=retry_after)
            may_retry = status in RETRYABLE_STATUSES and (idempotent or status == 429)
            return error, may_retry, retry_after if retry_after is not None else backoff
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return TransientError(self.vendor, f"connection failed on {what}: {cause!r}"), True, backoff
        if isinstance(cause, httpx.TimeoutException):
            return TransientError(self.vendor, f"timeout on {what}: {cause.__class__.__name__}"), idempotent, backoff
        if isinstance(cause, httpx.RequestError):
            return TransientError(self.vendor, f"request failed on {what}: {cause!r}"), idempotent, backoff
        # The vendor answered 2xx with something the SDK cannot read: no typed outcome, and no fake one.
        raise IntegrationError(self.vendor, f"unexpected answer to {what}: {exc}") from exc
