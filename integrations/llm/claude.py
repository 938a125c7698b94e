"""Anthropic Messages API through the `anthropic` SDK (AsyncAnthropic)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import anthropic
from anthropic.types import AssistantMessageParam, MessageParam, UserMessageParam

from integrations.errors import IntegrationError, RequestError, TransientError
from integrations.llm.base import (
    ChatMessage,
    LLMChunk,
    LLMResponse,
    LLMUsage,
    ModelPricing,
    SDKClient,
    check_request,
    status_error,
    token_count,
)

if TYPE_CHECKING:
    import httpx2

VENDOR = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
# 429s that are a billing decision, not load: retrying cannot help (integrations-reference §8.2).
NON_RETRYABLE_429_CODES = frozenset({"enforced_spend_limit_reached", "contract_spend_limit_reached"})
# An `error` SSE event arrives inside a 200 stream: its `error.type` gives the real status.
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def usage_from_anthropic(usage: Any) -> LLMUsage:
    """Anthropic's `input_tokens` excludes cache reads and writes; ours counts every prompt token."""
    cache_read = token_count(getattr(usage, "cache_read_input_tokens", None))
    cache_write = token_count(getattr(usage, "cache_creation_input_tokens", None))
    return LLMUsage(
        input_tokens=token_count(usage.input_tokens) + cache_read + cache_write,
        output_tokens=token_count(usage.output_tokens),
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def _error_detail(body: object) -> tuple[str | None, str | None, str | None]:
    """(type, message, details.error_code) of `{"type":"error","error":{"type","message","details"?}}`."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None, None, None
    error = body["error"]

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    details = error.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    return text(error.get("type")), text(error.get("message")), text(code)


def map_anthropic_error(exc: anthropic.AnthropicError) -> IntegrationError:
    if isinstance(exc, anthropic.APITimeoutError):
        return TransientError(VENDOR, "timeout")
    if isinstance(exc, anthropic.APIConnectionError):
        return TransientError(VENDOR, f"connection failed: {exc}")
    if isinstance(exc, anthropic.APIStatusError):
        kind, message, code = _error_detail(exc.body)
        message = message or exc.message
        status = exc.status_code
        if status < 400:  # error event mid-stream; unknown types count as server errors
            status = ERROR_TYPE_STATUS.get(kind or "", 500)
        if status == 429 and code in NON_RETRYABLE_429_CODES:
            return RequestError(VENDOR, 429, message, exc.body)
        retry_after = exc.response.headers.get("retry-after")
        return status_error(VENDOR, status, message, exc.body, retry_after)
    return IntegrationError(VENDOR, f"unexpected SDK error: {exc}")


class AnthropicClient(SDKClient[anthropic.AsyncAnthropic]):
    """`LLMClient` for Claude models.

    `temperature` is accepted for interface parity but never sent: API version 2026-10-21 (what
    anthropic SDK >= 2 sends) rejects `temperature`/`top_p`/`top_k` with a 400, and SDK 2.14's
    `messages.create` no longer has the parameter (integrations-reference §8.2).
    """

    vendor = VENDOR
    key_setting = "ANTHROPIC_API_KEY"

    def __init__(
        self,
        api_key: str | None,
        model: str,
        *,
        pricing: ModelPricing | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 120.0,
        max_retries: int = 2,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        sdk = (
            anthropic.AsyncAnthropic(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
            )
            if api_key
            else None
        )
        super().__init__(sdk, model, pricing)

    @staticmethod
    def _wire(messages: Sequence[ChatMessage], max_tokens: int) -> list[MessageParam]:
        check_request(messages, max_tokens)
        wire: list[MessageParam] = []
        for message in messages:
            if message.role == "user":
                wire.append(UserMessageParam(role="user", content=message.content))
            else:
                wire.append(AssistantMessageParam(role="assistant", content=message.content))
        return wire

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> LLMResponse:
        client = self._sdk()
        wire = self._wire(messages, max_tokens)
        try:
            message = await client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                messages=wire,
                system=system if system else anthropic.omit,
            )
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from exc
        usage = usage_from_anthropic(message.usage)
        return LLMResponse(
            text="".join(block.text for block in message.content if block.type == "text"),
            model=message.model,
            usage=usage,
            stop_reason=message.stop_reason,
            cost=self._cost(usage),
            id=message.id,
        )

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> AsyncIterator[LLMChunk]:
        client = self._sdk()
        wire = self._wire(messages, max_tokens)
        try:
            async with client.messages.stream(
                model=self.model,
                max_tokens=max_tokens,
                messages=wire,
                system=system if system else anthropic.omit,
            ) as events:
                async for event in events:
                    if event.type == "text" and event.text:
                        yield LLMChunk(text=event.text)
                # Usage: `message_start` carries input/cache tokens, the last `message_delta` the
                # final output_tokens; the SDK's accumulated final message holds both.
                final = await events.get_final_message()
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc) from exc
        usage = usage_from_anthropic(final.usage)
        yield LLMChunk(done=True, usage=usage, stop_reason=final.stop_reason, cost=self._cost(usage), model=final.model)
