"""DeepSeek through the `openai` SDK (DeepSeek speaks the OpenAI chat-completions format)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import openai
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)

from integrations.errors import IntegrationError, TransientError
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
    import httpx
    import httpx2

VENDOR = "deepseek"
DEFAULT_BASE_URL = "https://api.deepseek.com"


def usage_from_openai(usage: Any) -> LLMUsage:
    """DeepSeek usage: `prompt_tokens` = `prompt_cache_hit_tokens` + `prompt_cache_miss_tokens`.

    The DeepSeek fields are extras to the SDK's `CompletionUsage`; `prompt_tokens_details.cached_tokens`
    (the OpenAI-compatible mirror) is the fallback when they are absent.
    """
    extra = usage.model_extra or {}
    cached = extra.get("prompt_cache_hit_tokens")
    if not isinstance(cached, int):
        details = usage.prompt_tokens_details
        cached = token_count(details.cached_tokens) if details is not None else 0
    reasoning = None
    if usage.completion_tokens_details is not None:
        reasoning = usage.completion_tokens_details.reasoning_tokens
    return LLMUsage(
        input_tokens=token_count(usage.prompt_tokens),
        output_tokens=token_count(usage.completion_tokens),
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
    )


def map_openai_error(exc: openai.OpenAIError, vendor: str = VENDOR) -> IntegrationError:
    if isinstance(exc, openai.APITimeoutError):
        return TransientError(vendor, "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(vendor, f"connection failed: {exc}")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body
        message = exc.message
        # OpenAI-style error body {"error": {"message", "type", "param", "code"}} — exact DeepSeek fields
        # UNVERIFIED (integrations-reference §8.1); the SDK already unwraps `error` into `exc.body`.
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        return status_error(vendor, exc.status_code, message, body, exc.response.headers.get("retry-after"))
    if isinstance(exc, openai.APIError):
        # An `{"error": ...}` event inside a 200 stream: the server failed mid-answer, as Anthropic's
        # `error` events (unknown types count as server errors there too).
        return TransientError(vendor, f"error mid-stream: {exc.message}")
    return IntegrationError(vendor, f"unexpected SDK error: {exc}")


class DeepSeekClient(SDKClient[openai.AsyncOpenAI]):
    """`LLMClient` for DeepSeek. `thinking`: None = server default (ON per the docs), False/True sends
    `{"thinking": {"type": "disabled"|"enabled"}}` (in thinking mode `temperature` is ignored)."""

    vendor = VENDOR
    key_setting = "DEEPSEEK_API_KEY"

    def __init__(
        self,
        api_key: str | None,
        model: str,
        *,
        pricing: ModelPricing | None = None,
        base_url: str = DEFAULT_BASE_URL,
        thinking: bool | None = False,
        timeout: float = 120.0,
        max_retries: int = 2,
        http_client: httpx2.AsyncClient | httpx.AsyncClient | None = None,
    ) -> None:
        sdk = (
            openai.AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,  # type: ignore[arg-type]  # the SDK accepts httpx or httpx2
            )
            if api_key
            else None
        )
        super().__init__(sdk, model, pricing)
        self.thinking = thinking

    def _wire(
        self, messages: Sequence[ChatMessage], system: str | None, max_tokens: int
    ) -> list[ChatCompletionMessageParam]:
        check_request(messages, max_tokens)
        wire: list[ChatCompletionMessageParam] = []
        if system:
            wire.append(ChatCompletionSystemMessageParam(role="system", content=system))
        for message in messages:
            if message.role == "user":
                wire.append(ChatCompletionUserMessageParam(role="user", content=message.content))
            else:
                wire.append(ChatCompletionAssistantMessageParam(role="assistant", content=message.content))
        return wire

    def _extra_body(self) -> dict[str, Any] | None:
        if self.thinking is None:
            return None
        return {"thinking": {"type": "enabled" if self.thinking else "disabled"}}

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> LLMResponse:
        client = self._sdk()
        wire = self._wire(messages, system, max_tokens)
        try:
            response = await client.chat.completions.create(
                model=self.model,
                messages=wire,
                max_tokens=max_tokens,
                temperature=openai.omit if temperature is None else temperature,
                extra_body=self._extra_body(),
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        if not response.choices:
            raise TransientError(VENDOR, "empty answer (no choices)")
        choice = response.choices[0]
        if response.usage is None:  # always sent for non-streamed answers; UNVERIFIED otherwise
            raise TransientError(VENDOR, "answer without usage")
        usage = usage_from_openai(response.usage)
        return LLMResponse(
            text=choice.message.content or "",
            model=response.model,
            usage=usage,
            stop_reason=choice.finish_reason,
            cost=self._cost(usage),
            id=response.id,
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
        wire = self._wire(messages, system, max_tokens)
        usage: LLMUsage | None = None
        stop_reason: str | None = None
        model: str | None = None
        try:
            # include_usage: the last SSE chunk has `choices: []` and the usage (DeepSeek documents
            # stream_options.include_usage; we also accept usage on a chunk that still has choices).
            chunks = await client.chat.completions.create(
                model=self.model,
                messages=wire,
                max_tokens=max_tokens,
                temperature=openai.omit if temperature is None else temperature,
                extra_body=self._extra_body(),
                stream=True,
                stream_options={"include_usage": True},
            )
            async with chunks:
                async for chunk in chunks:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        usage = usage_from_openai(chunk.usage)
                    for choice in chunk.choices:
                        if choice.finish_reason:
                            stop_reason = choice.finish_reason
                        # `delta.reasoning_content` (thinking mode) is not part of the answer.
                        if choice.delta.content:
                            yield LLMChunk(text=choice.delta.content)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc) from exc
        yield LLMChunk(done=True, usage=usage, stop_reason=stop_reason, cost=self._cost(usage), model=model)
