"""LLM clients against respx-mocked vendor HTTP, through the real openai / anthropic SDKs.

openai 3.x and anthropic 2.x send through `httpx2` (not `httpx`), which respx does not patch; the
`RespxBridge` transport below hands each httpx2 request to the respx router as an `httpx.Request`
and returns its answer, so routes, call recording and `assert_all_called` work unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import httpx2
import pytest
import respx

from integrations.errors import NotConfiguredError, NotFoundError, RequestError, TransientError
from integrations.llm import (
    AnthropicClient,
    ChatMessage,
    DeepSeekClient,
    LLMChunk,
    LLMClient,
    LLMUsage,
    ModelPricing,
    cost,
)

DEEPSEEK_URL = "https://api.deepseek.com/chat/completions"
SSE_HEADERS = {"content-type": "text/event-stream"}
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
HELLO = [ChatMessage(role="user", content="Hello")]


class RespxBridge(httpx2.AsyncBaseTransport):
    """An httpx2 transport answering from a respx router (the SDKs' real HTTP code runs unchanged)."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        content = await request.aread()
        legacy = httpx.Request(request.method, str(request.url), headers=list(request.headers.raw), content=content)
        try:
            response = await self.router.async_handler(legacy)
        except httpx.TimeoutException as exc:
            raise httpx2.ReadTimeout(str(exc), request=request) from exc
        except httpx.TransportError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        body = await response.aread()
        return httpx2.Response(response.status_code, headers=list(response.headers.raw), content=body, request=request)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def http_client(router: respx.MockRouter) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=RespxBridge(router)) as client:
        yield client


def sse(events: list[tuple[str | None, Any]]) -> bytes:
    lines = []
    for event, data in events:
        if event is not None:
            lines.append(f"event: {event}")
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}")
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


async def collect(stream: AsyncIterator[LLMChunk]) -> list[LLMChunk]:
    return [chunk async for chunk in stream]


# ---------------------------------------------------------------------------------------- pricing


def test_cost_uses_cache_prices_and_defaults_to_input_price() -> None:
    usage = LLMUsage(input_tokens=1_000_000, output_tokens=500_000, cached_input_tokens=400_000)
    flash = ModelPricing(
        input_per_million=Decimal("0.30"), output_per_million=Decimal("1.20"), cached_input_per_million=Decimal("0.006")
    )
    # 600k uncached * 0.30 + 400k cached * 0.006 + 500k out * 1.20
    assert cost(usage, flash) == Decimal("0.18") + Decimal("0.0024") + Decimal("0.60")
    plain = ModelPricing(input_per_million=Decimal("1"), output_per_million=Decimal("2"))
    assert plain.cost(usage) == Decimal("2")


def test_pricing_refuses_floats_and_negatives() -> None:
    with pytest.raises(TypeError):
        ModelPricing(input_per_million=0.3, output_per_million=Decimal("1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ModelPricing(input_per_million=Decimal("-1"), output_per_million=Decimal("1"))


# --------------------------------------------------------------------------------------- DeepSeek

FLASH = ModelPricing(
    input_per_million=Decimal("0.30"), output_per_million=Decimal("1.20"), cached_input_per_million=Decimal("0.006")
)


def deepseek(http_client: httpx2.AsyncClient | httpx.AsyncClient, **kwargs: Any) -> DeepSeekClient:
    return DeepSeekClient("sk-test", "deepseek-flash", pricing=FLASH, max_retries=0, http_client=http_client, **kwargs)


async def test_deepseek_complete(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, fixture_json: Callable[[str], Any]
) -> None:
    recorded = fixture_json("deepseek_chat_completion.json")
    route = router.post(DEEPSEEK_URL).respond(200, json=recorded["response"])
    client = deepseek(http_client)
    assert isinstance(client, LLMClient)

    answer = await client.complete(HELLO, system="Tu es Élio.", max_tokens=200)

    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "deepseek-flash"
    assert body["messages"] == [{"role": "system", "content": "Tu es Élio."}, {"role": "user", "content": "Hello"}]
    assert body["max_tokens"] == 200
    assert body["thinking"] == {"type": "disabled"}
    assert "temperature" not in body
    assert answer.text == "Hello! How can I assist you today?"
    assert answer.model == "deepseek-chat"
    assert answer.stop_reason == "stop"
    assert answer.usage == LLMUsage(input_tokens=14, output_tokens=9, cached_input_tokens=0)
    assert answer.cost == (14 * Decimal("0.30") + 9 * Decimal("1.20")) / 1_000_000


async def test_deepseek_cache_hits_and_temperature(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, fixture_json: Callable[[str], Any]
) -> None:
    response = fixture_json("deepseek_chat_completion.json")["response"]
    response["usage"] |= {
        "prompt_tokens": 1000,
        "prompt_cache_hit_tokens": 800,
        "prompt_cache_miss_tokens": 200,
        "prompt_tokens_details": {"cached_tokens": 800},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    route = router.post(DEEPSEEK_URL).respond(200, json=response)

    answer = await deepseek(http_client, thinking=None).complete(HELLO, temperature=0.2)

    body = json.loads(route.calls.last.request.content)
    assert body["temperature"] == 0.2
    assert "thinking" not in body
    assert answer.usage.cached_input_tokens == 800
    assert answer.usage.uncached_input_tokens == 200
    assert answer.usage.reasoning_tokens == 3


async def test_deepseek_stream(router: respx.MockRouter, http_client: httpx2.AsyncClient) -> None:
    base = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1755780061,
        "model": "deepseek-flash",
        "system_fingerprint": "fp_1",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return base | {"choices": [choice]} | extra

    usage = {
        "prompt_tokens": 14,
        "completion_tokens": 3,
        "total_tokens": 17,
        "prompt_cache_hit_tokens": 10,
        "prompt_cache_miss_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 10},
    }
    body = b": keep-alive\n\n" + sse(
        [
            (None, chunk({"role": "assistant", "content": ""})),
            (None, chunk({"content": "Bon"})),
            (None, chunk({"content": "jour"})),
            (None, chunk({"content": ""}, "stop")),
            (None, base | {"choices": [], "usage": usage}),
            (None, "[DONE]"),
        ]
    )
    route = router.post(DEEPSEEK_URL).respond(200, content=body, headers=SSE_HEADERS)

    chunks = await collect(deepseek(http_client).stream(HELLO))

    sent = json.loads(route.calls.last.request.content)
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert "".join(c.text for c in chunks) == "Bonjour"
    assert [c.done for c in chunks] == [False, False, True]
    final = chunks[-1]
    assert final.usage == LLMUsage(input_tokens=14, output_tokens=3, cached_input_tokens=10)
    assert final.stop_reason == "stop"
    assert final.model == "deepseek-flash"
    assert final.cost == (4 * Decimal("0.30") + 10 * Decimal("0.006") + 3 * Decimal("1.20")) / 1_000_000


async def test_deepseek_accepts_a_plain_httpx_client(
    router: respx.MockRouter, fixture_json: Callable[[str], Any]
) -> None:
    router.post(DEEPSEEK_URL).respond(200, json=fixture_json("deepseek_chat_completion.json")["response"])
    async with httpx.AsyncClient() as legacy:
        answer = await deepseek(legacy).complete(HELLO)
    assert answer.usage.input_tokens == 14


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (429, {"retry-after": "7"}, TransientError, 7.0),
        (503, {}, TransientError, None),
        (500, {}, TransientError, None),
        (402, {}, RequestError, None),
        (401, {}, RequestError, None),
        (404, {}, NotFoundError, None),
    ],
)
async def test_deepseek_status_errors(
    router: respx.MockRouter,
    http_client: httpx2.AsyncClient,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
    retry_after: float | None,
) -> None:
    body = {
        "error": {
            "message": "Insufficient Balance",
            "type": "unknown_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }
    router.post(DEEPSEEK_URL).respond(status, json=body, headers=headers)
    with pytest.raises(error) as caught:
        await deepseek(http_client).complete(HELLO)
    assert type(caught.value) is error
    if isinstance(caught.value, RequestError):
        assert caught.value.status_code == status
        assert caught.value.vendor_message == "Insufficient Balance"
    if isinstance(caught.value, TransientError):
        assert caught.value.status_code == status
        assert caught.value.retry_after == retry_after


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_deepseek_transport_errors(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, failure: Exception
) -> None:
    router.post(DEEPSEEK_URL).mock(side_effect=failure)
    with pytest.raises(TransientError):
        await deepseek(http_client).complete(HELLO)


async def test_deepseek_stream_error_is_mapped(router: respx.MockRouter, http_client: httpx2.AsyncClient) -> None:
    router.post(DEEPSEEK_URL).respond(503, json={"error": {"message": "Server overloaded"}})
    with pytest.raises(TransientError):
        await collect(deepseek(http_client).stream(HELLO))


async def test_deepseek_error_event_mid_stream_is_transient(
    router: respx.MockRouter, http_client: httpx2.AsyncClient
) -> None:
    # After the 200 the SDK raises a bare APIError (no status) for an `{"error": ...}` SSE payload.
    body = sse([(None, {"error": {"message": "Server overloaded", "type": "server_error"}})])
    router.post(DEEPSEEK_URL).respond(200, content=body, headers=SSE_HEADERS)
    with pytest.raises(TransientError, match="Server overloaded"):
        await collect(deepseek(http_client).stream(HELLO))


async def test_deepseek_not_configured() -> None:
    client = DeepSeekClient(None, "deepseek-flash")
    assert not client.configured
    with pytest.raises(NotConfiguredError) as caught:
        await client.complete(HELLO)
    assert caught.value.setting == "DEEPSEEK_API_KEY"
    with pytest.raises(NotConfiguredError):
        await collect(client.stream(HELLO))
    await client.aclose()


# -------------------------------------------------------------------------------------- Anthropic

SONNET = ModelPricing(
    input_per_million=Decimal("3"),
    output_per_million=Decimal("15"),
    cached_input_per_million=Decimal("0.30"),
    cache_write_per_million=Decimal("3.75"),
)


def claude(http_client: httpx2.AsyncClient) -> AnthropicClient:
    return AnthropicClient("sk-ant-test", "claude-sonnet-5-5", pricing=SONNET, max_retries=0, http_client=http_client)


async def test_anthropic_complete(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, fixture_json: Callable[[str], Any]
) -> None:
    message = fixture_json("anthropic_message_docexample.json")
    message.pop("_source")
    message["model"] = "claude-sonnet-5-5"  # the docs example omits it; real responses carry it
    route = router.post(ANTHROPIC_URL).respond(200, json=message)
    client = claude(http_client)
    assert isinstance(client, LLMClient)

    answer = await client.complete(HELLO, system="Tu es Élio.", max_tokens=300, temperature=0.5)

    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert request.headers["anthropic-version"]
    body = json.loads(request.content)
    assert body == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 300,
        "system": "Tu es Élio.",
        "messages": [{"role": "user", "content": "Hello"}],
    }  # no temperature (API 2026-10-21)
    assert answer.text == "Here's the answer to your question..."
    assert answer.stop_reason == "end_turn"
    assert answer.id == "msg_01234"
    assert answer.usage == LLMUsage(input_tokens=100, output_tokens=50)
    assert answer.cost == (100 * Decimal("3") + 50 * Decimal("15")) / 1_000_000


async def test_anthropic_cache_usage(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, fixture_json: Callable[[str], Any]
) -> None:
    message = fixture_json("anthropic_message_docexample.json")
    message.pop("_source")
    message["model"] = "claude-sonnet-5-5"
    message["usage"] = {
        "input_tokens": 20,
        "output_tokens": 10,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    router.post(ANTHROPIC_URL).respond(200, json=message)

    answer = await claude(http_client).complete(HELLO)

    assert answer.usage == LLMUsage(
        input_tokens=1220, output_tokens=10, cached_input_tokens=1000, cache_write_tokens=200
    )
    expected = 20 * Decimal("3") + 1000 * Decimal("0.30") + 200 * Decimal("3.75") + 10 * Decimal("15")
    assert answer.cost == expected / 1_000_000


async def test_anthropic_stream(router: respx.MockRouter, http_client: httpx2.AsyncClient) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-5-5",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 25,
                "output_tokens": 1,
                "cache_read_input_tokens": 10,
                "cache_creation_input_tokens": 0,
            },
        },
    }
    body = sse(
        [
            ("message_start", start),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            ),
            ("ping", {"type": "ping"}),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bon"}},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "jour"}},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 15},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )
    route = router.post(ANTHROPIC_URL).respond(200, content=body, headers=SSE_HEADERS)

    chunks = await collect(claude(http_client).stream(HELLO, system="Sois bref."))

    sent = json.loads(route.calls.last.request.content)
    assert sent["stream"] is True
    assert sent["system"] == "Sois bref."
    assert "".join(c.text for c in chunks) == "Bonjour"
    final = chunks[-1]
    assert final.done and not any(c.done for c in chunks[:-1])
    assert final.usage == LLMUsage(input_tokens=35, output_tokens=15, cached_input_tokens=10)
    assert final.stop_reason == "end_turn"
    assert final.model == "claude-sonnet-5-5"
    assert final.cost == (25 * Decimal("3") + 10 * Decimal("0.30") + 15 * Decimal("15")) / 1_000_000


def anthropic_error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["details"] = {"error_code": code}
    return {"type": "error", "error": error, "request_id": "req_1"}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (529, anthropic_error("overloaded_error", "Overloaded"), TransientError),
        (429, anthropic_error("rate_limit_error", "Slow down"), TransientError),
        (429, anthropic_error("rate_limit_error", "Spend cap", "enforced_spend_limit_reached"), RequestError),
        (400, anthropic_error("invalid_request_error", "temperature: Extra inputs"), RequestError),
        (404, anthropic_error("not_found_error", "model: claude-x"), NotFoundError),
        (500, anthropic_error("api_error", "Internal"), TransientError),
    ],
)
async def test_anthropic_status_errors(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    router.post(ANTHROPIC_URL).respond(status, json=body, headers={"retry-after": "3"})
    with pytest.raises(error) as caught:
        await claude(http_client).complete(HELLO)
    assert type(caught.value) is error
    if isinstance(caught.value, RequestError):
        assert caught.value.status_code == status
        assert caught.value.vendor_message == body["error"]["message"]
    if isinstance(caught.value, TransientError):
        assert caught.value.retry_after == 3.0


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_anthropic_transport_errors(
    router: respx.MockRouter, http_client: httpx2.AsyncClient, failure: Exception
) -> None:
    router.post(ANTHROPIC_URL).mock(side_effect=failure)
    with pytest.raises(TransientError):
        await claude(http_client).complete(HELLO)


async def test_anthropic_error_event_mid_stream(router: respx.MockRouter, http_client: httpx2.AsyncClient) -> None:
    body = sse([("error", anthropic_error("overloaded_error", "Overloaded"))])
    router.post(ANTHROPIC_URL).respond(200, content=body, headers=SSE_HEADERS)
    with pytest.raises(TransientError):
        await collect(claude(http_client).stream(HELLO))


async def test_anthropic_not_configured() -> None:
    client = AnthropicClient("", "claude-sonnet-5-5")
    with pytest.raises(NotConfiguredError) as caught:
        await client.complete(HELLO)
    assert caught.value.setting == "ANTHROPIC_API_KEY"
    with pytest.raises(NotConfiguredError):
        await collect(client.stream(HELLO))


async def test_empty_messages_refused(http_client: httpx2.AsyncClient) -> None:
    with pytest.raises(ValueError):
        await claude(http_client).complete([])
