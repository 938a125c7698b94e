"""Deepgram pre-recorded transcription (`POST /v1/listen`), by URL or by bytes, French and diarized.

Reference: integrations-reference.md §5. Plain httpx (through VendorHTTP) rather than deepgram-sdk: the SDK's
API changes shape between majors and we only need one endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, overload

import httpx
from pydantic import BaseModel, Field

from integrations._http import RetryPolicy, VendorHTTP
from integrations.errors import IntegrationError, NotConfiguredError

VENDOR = "deepgram"
DEFAULT_BASE_URL = "https://api.deepgram.com"
DEFAULT_MODEL = "nova-3"
DEFAULT_LANGUAGE = "fr"
# Synchronous transcription answers only once the whole file is processed; for an hour-long meeting that
# can take minutes (sync limit ~10 min, UNVERIFIED), and uploads of big files need a long write timeout.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=600.0, pool=10.0)


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
    # `extra=key:value` query params come back here; callbacks are authenticated with them.
    extra: dict[str, Any] = Field(default_factory=dict)


class TranscriptionAccepted(BaseModel):
    """Callback mode: Deepgram will POST the full response to the callback URL later."""

    request_id: str


def _word_text(word: Mapping[str, Any]) -> str:
    return str(word.get("punctuated_word") or word.get("word") or "")


def _segments_from_words(words: list[Mapping[str, Any]]) -> list[SpeakerSegment]:
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
        segments = [
            SpeakerSegment(
                speaker=u.get("speaker"),
                start=float(u.get("start", 0.0)),
                end=float(u.get("end", 0.0)),
                text=str(u.get("transcript") or "").strip(),
            )
            for u in utterances
        ]
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


class DeepgramClient:
    """`Authorization: Token <key>`; without a key, calls raise NotConfiguredError(.., "DEEPGRAM_API_KEY")."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.configured = bool(api_key)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Token {api_key}"
        self.http = VendorHTTP(
            VENDOR, base_url, headers=headers, timeout=timeout, retry=retry, transport=transport, sleep=sleep
        )

    async def aclose(self) -> None:
        await self.http.aclose()

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
        return await self._listen(
            {"json": {"url": url}}, model=model, language=language, callback_url=callback_url, extra=extra
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
        return await self._listen(
            {"content": audio, "headers": {"Content-Type": content_type}},
            model=model,
            language=language,
            callback_url=callback_url,
            extra=extra,
        )

    async def _listen(
        self,
        send: dict[str, Any],
        *,
        model: str,
        language: str,
        callback_url: str | None,
        extra: Mapping[str, str] | None,
    ) -> Transcript | TranscriptionAccepted:
        if not self.configured:
            raise NotConfiguredError(VENDOR, "DEEPGRAM_API_KEY")
        params: list[tuple[str, str]] = [
            ("model", model),
            ("language", language),
            ("diarize", "true"),
            ("punctuate", "true"),
            ("smart_format", "true"),
            ("utterances", "true"),
        ]
        if callback_url:
            params.append(("callback", callback_url))
        params.extend(("extra", f"{key}:{value}") for key, value in (extra or {}).items())
        # Never replayed on 5xx/timeouts: a retried POST is billed (and transcribed) twice.
        body = await self.http.json("POST", "/v1/listen", params=params, idempotent=False, **send)
        if not isinstance(body, Mapping):
            raise IntegrationError(VENDOR, "unexpected transcription response")
        if callback_url:
            request_id = body.get("request_id")
            if not isinstance(request_id, str) or not request_id:
                raise IntegrationError(VENDOR, "callback accepted without a request_id")
            return TranscriptionAccepted(request_id=request_id)
        return parse_transcription(body)
