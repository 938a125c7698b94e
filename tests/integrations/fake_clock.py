"""Fake time for rate-limiter and retry tests: nothing really waits."""

from __future__ import annotations

from integrations._http import RateLimiter


class FakeTime:
    """A clock that only moves when the test or something sleeping on it moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Sleeper:
    """A `sleep` that records how long it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def on_fake_time(limiter: RateLimiter | None) -> FakeTime:
    """Put a client's own default limiter (its real limits) on a fake clock."""
    assert limiter is not None
    fake = FakeTime()
    limiter._clock, limiter._sleep = fake.clock, fake.sleep
    return fake
