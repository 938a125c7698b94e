"""The one HTTP layer every vendor client is built on: timeouts, retries, rate limits, typed errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.errors import IntegrationError, NotFoundError, RequestError, TransientError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The statuses that mean "try again later"; any other 5xx is still a TransientError, but not retried.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped per wait and in total (the retry budget)."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    budget: float = 30.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RateLimiter:
    """Sliding-window limiter: at most `max_calls` starts per `period` seconds within this process.

    `clock` and `sleep` are injectable so tests can drive time instead of waiting for it.
    """

    def __init__(
        self,
        max_calls: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("RateLimiter needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        # The lock is held while waiting so callers are served in arrival order.
        async with self._lock:
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.period:
                    self._starts.popleft()
                if len(self._starts) < self.max_calls:
                    self._starts.append(now)
                    return
                await self._sleep(self.period - (now - self._starts[0]))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait: either delta-seconds or an HTTP date (`now` is a unix time)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # float() also accepts "nan"/"inf", which would poison every later comparison.
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # A "-0000" zone parses naive; HTTP dates are always UTC, not the host's local time.
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _error_message(body: Any, fallback: str) -> str:
    """Pull a human message out of the usual vendor error shapes."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "error", "err_msg", "msg", "erreur", "reason", "header"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                nested = value.get("message")
                if isinstance(nested, str) and nested:
                    return nested
    if isinstance(body, str) and body:
        return body[:500]
    return fallback


class VendorHTTP:
    """A long-lived `httpx.AsyncClient` for one vendor plus the policies around every call."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = httpx.Timeout(10.0, connect=5.0),
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.vendor = vendor
        self.retry = retry
        self.limiter = limiter
        self._sleep = sleep
        self.client = httpx.AsyncClient(
            base_url=base_url, headers=dict(headers or {}), timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries and map failures to typed errors.

        Only idempotent calls are retried after an ambiguous failure (read timeout, 502/503/504); any call
        is retried when the vendor provably did not process it (connection never made, 429).
        `expected` lists non-2xx statuses the caller handles itself (returned, not raised).
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        started = time.monotonic()
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                await self.limiter.acquire()
            try:
                response = await self.client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error = TransientError(self.vendor, f"connection failed on {method} {url}: {exc!r}")
                may_retry, wait = True, self.retry.backoff(attempt)
            except httpx.TimeoutException as exc:
                error = TransientError(self.vendor, f"timeout on {method} {url}: {exc.__class__.__name__}")
                may_retry, wait = idempotent, self.retry.backoff(attempt)
            except httpx.RequestError as exc:  # transport failures, undecodable bodies, redirect loops
                error = TransientError(self.vendor, f"request failed on {method} {url}: {exc!r}")
                may_retry, wait = idempotent, self.retry.backoff(attempt)
            else:
                status = response.status_code
                if response.is_success or status in expected:
                    return response
                if status not in RETRYABLE_STATUSES and status < 500:
                    raise self._request_error(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                error = TransientError(
                    self.vendor,
                    f"HTTP {status} on {method} {url}",
                    status_code=status,
                    retry_after=retry_after,
                )
                # 429 means "not processed", so even a POST may be sent again.
                may_retry = status in RETRYABLE_STATUSES and (idempotent or status == 429)
                wait = retry_after if retry_after is not None else self.retry.backoff(attempt)
            # With an injected sleep the wall clock barely moves: count the waits themselves too.
            spent = max(time.monotonic() - started, slept)
            if not may_retry or attempt >= self.retry.max_attempts or spent + wait > self.retry.budget:
                raise error
            await self._sleep(wait)
            slept += wait

    def _request_error(self, response: httpx.Response) -> RequestError:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        message = _error_message(body, response.reason_phrase or "request refused")
        cls = NotFoundError if response.status_code == 404 else RequestError
        return cls(self.vendor, response.status_code, message, body)

    async def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """`request` and decode the JSON body (None for an empty body)."""
        response = await self.request(method, url, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise IntegrationError(self.vendor, f"response to {method} {url} is not JSON") from exc
