"""Deepgram pre-recorded transcription (`POST /v1/listen`) through `deepgram-sdk` 7.x, by URL or by
bytes, French and diarized.

Reference: integrations-reference.md §5. The SDK sends through the httpx client we hand it (explicit
timeouts; respx mocks it in tests). We read the raw JSON of its response (`with_raw_response`) rather
than its models: the same parser then serves the synchronous answer and the callback body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import httpx
from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.core.request_options import RequestOptions
from deepgram.environment import DeepgramClientEnvironment
from pydantic import BaseModel, Field

from integrations.errors import IntegrationError, NotConfiguredError, NotFoundError, RequestError, TransientError

VENDOR = "deepgram"
DEFAULT_BASE_URL = "https://api.deepgram.com"
DEFAULT_MODEL = "nova-3"
DEFAULT_LANGUAGE = "fr"
# Synchronous transcription answers only once the whole file is processed; for an hour-long meeting that
# can take minutes (sync limit ~10 min, UNVERIFIED), and uploads of big files need a long write timeout.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=600.0, pool=10.0)
# Never replayed on 5xx/timeouts: a retried POST is billed (and transcribed) twice. The queue retries.
_NO_RETRY = RequestOptions(max_retries=0)


class SpeakerSegment(BaseModel):
    """A stretch of speech by one speaker (None when the response has no diarization)."""

    speaker: int | None
    start: float
    end: float
    text: str


class Transcript(BaseModel):
    request_id: str | None = None
    duration: float | None = None
    transcript: str
    segments: list[SpeakerSegment] = Field(default_factory=list)
    detected_language: str | None = None
    # `extra=key:value` query params come back here.
    extra: dict[str, Any] = Field(default_factory=dict)


class TranscriptionAccepted(BaseModel):
    """Callback mode: Deepgram will POST the full response to the callback URL later."""

    request_id: str


def _word_text(word: Mapping[str, Any]) -> str:
    return str(word.get("punctuated_word") or word.get("word") or "")


def _segments_from_words(words: Sequence[Mapping[str, Any]]) -> list[SpeakerSegment]:
    """One segment per run of consecutive words by the same speaker."""
    segments: list[SpeakerSegment] = []
    for word in words:
        speaker = word.get("speaker")
        text = _word_text(word)
        if segments and segments[-1].speaker == speaker:
            last = segments[-1]
            last.end = float(word.get("end", last.end))
            last.text = f"{last.text} {text}".strip()
        else:
            start, end = float(word.get("start", 0.0)), float(word.get("end", 0.0))
            segments.append(SpeakerSegment(speaker=speaker, start=start, end=end, text=text))
    return segments


def _utterance_segments(utterance: Mapping[str, Any]) -> list[SpeakerSegment]:
    # An utterance sometimes carries words Deepgram's diarizer gave to another speaker (in a real
    # diarized payload 13 of 226 words sit under an utterance labelled with someone else): split at
    # word-level speaker changes so every segment is one voice.
    words = utterance.get("words") or []
    if words and any(w.get("speaker") is not None for w in words):
        return _segments_from_words(words)
    return [
        SpeakerSegment(
            speaker=utterance.get("speaker"),
            start=float(utterance.get("start", 0.0)),
            end=float(utterance.get("end", 0.0)),
            text=str(utterance.get("transcript") or "").strip(),
        )
    ]


def parse_transcription(body: Mapping[str, Any]) -> Transcript:
    """A `/v1/listen` response (or the callback body, same shape) as transcript + speaker segments."""
    metadata = body.get("metadata") or {}
    results = body.get("results")
    if not isinstance(results, Mapping):
        raise IntegrationError(VENDOR, "transcription response has no results")
    # Foxeo does not ask for multichannel: the mixed recording is channel 0, best alternative first.
    channels = results.get("channels") or [{}]
    channel = channels[0] or {}
    alternative = (channel.get("alternatives") or [{}])[0] or {}
    utterances = results.get("utterances") or []
    if utterances:
        segments = [segment for u in utterances for segment in _utterance_segments(u)]
    else:
        segments = _segments_from_words(alternative.get("words") or [])
    return Transcript(
        request_id=metadata.get("request_id"),
        duration=metadata.get("duration"),
        transcript=str(alternative.get("transcript") or ""),
        segments=segments,
        detected_language=channel.get("detected_language"),
        extra=metadata.get("extra") or {},
    )


def _error(exc: ApiError) -> IntegrationError:
    status = exc.status_code or 500
    body = exc.body
    message = str(body.get("err_msg") or body.get("err_code") or status) if isinstance(body, Mapping) else str(body)
    if status == 429 or status >= 500:
        return TransientError(VENDOR, f"HTTP {status}: {message}", status_code=status)
    cls = NotFoundError if status == 404 else RequestError
    return cls(VENDOR, status, message, body)


class DeepgramClient:
    """`Authorization: Token <key>`; without a key, calls raise NotConfiguredError(.., "DEEPGRAM_API_KEY")."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.configured = bool(api_key)
        self.http_client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._sdk: AsyncDeepgramClient | None = None
        if api_key:
            production = DeepgramClientEnvironment.PRODUCTION
            environment = DeepgramClientEnvironment(
                base=base_url.rstrip("/"),
                production=production.production,
                agent=production.agent,
                agent_rest=production.agent_rest,
            )
            self._sdk = AsyncDeepgramClient(api_key=api_key, environment=environment, httpx_client=self.http_client)

    async def aclose(self) -> None:
        await self.http_client.aclose()

    def _client(self) -> AsyncDeepgramClient:
        if self._sdk is None:
            raise NotConfiguredError(VENDOR, "DEEPGRAM_API_KEY")
        return self._sdk

    @overload
    async def transcribe_url(
        self,
        url: str,
        *,
        model: str = ...,
        language: str = ...,
        callback_url: None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Transcript: ...

    @overload
    async def transcribe_url(
        self,
        url: str,
        *,
        model: str = ...,
        language: str = ...,
        callback_url: str,
        extra: Mapping[str, str] | None = None,
    ) -> TranscriptionAccepted: ...

    async def transcribe_url(
        self,
        url: str,
        *,
        model: str = DEFAULT_MODEL,
        language: str = DEFAULT_LANGUAGE,
        callback_url: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Transcript | TranscriptionAccepted:
        """Deepgram fetches `url` itself (a signed storage URL works)."""
        if not url.startswith(("https://", "http://")):
            raise ValueError("audio url must be an http(s) URL")
        media = self._client().listen.v1.media.with_raw_response
        return await self._listen(
            lambda **options: media.transcribe_url(url=url, **options),
            model=model,
            language=language,
            callback_url=callback_url,
            extra=extra,
        )

    @overload
    async def transcribe_bytes(
        self,
        audio: bytes,
        *,
        content_type: str,
        model: str = ...,
        language: str = ...,
        callback_url: None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Transcript: ...

    @overload
    async def transcribe_bytes(
        self,
        audio: bytes,
        *,
        content_type: str,
        model: str = ...,
        language: str = ...,
        callback_url: str,
        extra: Mapping[str, str] | None = None,
    ) -> TranscriptionAccepted: ...

    async def transcribe_bytes(
        self,
        audio: bytes,
        *,
        content_type: str,
        model: str = DEFAULT_MODEL,
        language: str = DEFAULT_LANGUAGE,
        callback_url: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Transcript | TranscriptionAccepted:
        """Upload the audio itself; `content_type` e.g. `audio/ogg`, `audio/mp4`."""
        if not audio:
            raise ValueError("audio is empty")
        media = self._client().listen.v1.media.with_raw_response
        options = RequestOptions(max_retries=0, additional_headers={"content-type": content_type})
        return await self._listen(
            lambda **kw: media.transcribe_file(request=audio, **{**kw, "request_options": options}),
            model=model,
            language=language,
            callback_url=callback_url,
            extra=extra,
        )

    async def _listen(
        self,
        send: Any,
        *,
        model: str,
        language: str,
        callback_url: str | None,
        extra: Mapping[str, str] | None,
    ) -> Transcript | TranscriptionAccepted:
        options: dict[str, Any] = {
            "model": model,
            "language": language,
            "diarize": True,
            "punctuate": True,
            "smart_format": True,
            "utterances": True,
            "request_options": _NO_RETRY,
        }
        if callback_url:
            options["callback"] = callback_url
        if extra:
            options["extra"] = [f"{key}:{value}" for key, value in extra.items()]
        try:
            response = await send(**options)
            body = response._response.json()
        except ApiError as exc:
            raise _error(exc) from exc
        except httpx.TransportError as exc:  # timeouts, refused connections
            raise TransientError(VENDOR, f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a 2xx whose body is not JSON
            raise IntegrationError(VENDOR, "unexpected transcription response") from exc
        if not isinstance(body, Mapping):
            raise IntegrationError(VENDOR, "unexpected transcription response")
        if callback_url:
            request_id = body.get("request_id")
            if not isinstance(request_id, str) or not request_id:
                raise IntegrationError(VENDOR, "callback accepted without a request_id")
            return TranscriptionAccepted(request_id=request_id)
        return parse_transcription(body)
