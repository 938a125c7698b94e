"""The one small LLM interface Élio is written against, whatever the vendor behind it.

Model ids and prices are the caller's (settings), never constants here: both change often
(integrations-reference §8).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from integrations._http import parse_retry_after
from integrations.errors import NotConfiguredError, NotFoundError, RequestError, TransientError

Role = Literal["user", "assistant"]
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ChatMessage:
    """One turn of the conversation; the system prompt is passed apart (`system=`)."""

    role: Role
    content: str


@dataclass(frozen=True)
class LLMUsage:
    """Tokens of one answer, normalised across vendors.

    `input_tokens` counts every prompt token, cached or not (DeepSeek's `prompt_tokens`; Anthropic's
    `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`). `cached_input_tokens` are
    cache hits (DeepSeek `prompt_cache_hit_tokens`, Anthropic `cache_read_input_tokens`);
    `cache_write_tokens` are Anthropic's `cache_creation_input_tokens` (DeepSeek: always 0).
    `output_tokens` includes reasoning tokens.
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int | None = None

    @property
    def uncached_input_tokens(self) -> int:
        return max(0, self.input_tokens - self.cached_input_tokens - self.cache_write_tokens)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ModelPricing:
    """Prices per million tokens, from settings. Cache prices default to the plain input price."""

    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        for name in ("input_per_million", "output_per_million", "cached_input_per_million", "cache_write_per_million"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, float) or not isinstance(value, Decimal | int | str):
                raise TypeError(f"{name} must be a Decimal (got {type(value).__name__})")
            value = Decimal(value)
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            object.__setattr__(self, name, value)

    def cost(self, usage: LLMUsage) -> Decimal:
        cached = self.cached_input_per_million
        write = self.cache_write_per_million
        total = (
            usage.uncached_input_tokens * self.input_per_million
            + usage.cached_input_tokens * (self.input_per_million if cached is None else cached)
            + usage.cache_write_tokens * (self.input_per_million if write is None else write)
            + usage.output_tokens * self.output_per_million
        )
        return total / MILLION


def cost(usage: LLMUsage, pricing: ModelPricing) -> Decimal:
    """What `usage` costs at `pricing` (exact Decimal, in `pricing.currency`)."""
    return pricing.cost(usage)


@dataclass(frozen=True)
class LLMResponse:
    text: str
    model: str
    usage: LLMUsage
    stop_reason: str | None = None
    cost: Decimal | None = None
    id: str | None = None


@dataclass(frozen=True)
class LLMChunk:
    """A piece of a streamed answer. The last chunk has `done=True` and carries usage (and cost)."""

    text: str = ""
    done: bool = False
    usage: LLMUsage | None = None
    stop_reason: str | None = None
    cost: Decimal | None = None
    model: str | None = None


@runtime_checkable
class LLMClient(Protocol):
    vendor: str
    model: str

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> LLMResponse: ...

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> AsyncIterator[LLMChunk]: ...

    async def aclose(self) -> None: ...


class _Closable(Protocol):
    async def close(self) -> None: ...


SDK = TypeVar("SDK", bound=_Closable)


class SDKClient(Generic[SDK]):
    """What every SDK-backed `LLMClient` shares: the SDK client (None without an API key), the model
    and the caller's pricing."""

    vendor: str
    key_setting: str  # the setting NotConfiguredError names

    def __init__(self, sdk: SDK | None, model: str, pricing: ModelPricing | None) -> None:
        self._client = sdk
        self.model = model
        self.pricing = pricing

    @property
    def configured(self) -> bool:
        return self._client is not None

    def _sdk(self) -> SDK:
        if self._client is None:
            raise NotConfiguredError(self.vendor, self.key_setting)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    def _cost(self, usage: LLMUsage | None) -> Decimal | None:
        return self.pricing.cost(usage) if self.pricing is not None and usage is not None else None


def token_count(value: Any) -> int:
    """A usage field as an int (absent or null counts as 0)."""
    return value if isinstance(value, int) else 0


def check_request(messages: Sequence[ChatMessage], max_tokens: int) -> None:
    if not messages:
        raise ValueError("messages must not be empty")
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")


def status_error(
    vendor: str, status: int, message: str, body: object, retry_after: str | None
) -> TransientError | RequestError:
    """An SDK `APIStatusError` (after the SDK's own retries) as one of our errors."""
    if status == 429 or status >= 500:  # 429 rate/concurrency limit, 5xx, Anthropic 529 overloaded
        return TransientError(
            vendor, f"HTTP {status}: {message}", status_code=status, retry_after=parse_retry_after(retry_after)
        )
    cls = NotFoundError if status == 404 else RequestError
    return cls(vendor, status, message, body)
