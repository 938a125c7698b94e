"""Deepgram pre-recorded transcription (respx + the real response fixture)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from integrations.deepgram import (
    DeepgramClient,
    Transcript,
    TranscriptionAccepted,
    parse_transcription,
)
from integrations.errors import NotConfiguredError, RequestError, TransientError

LISTEN = "https://api.deepgram.com/v1/listen"
AUDIO_URL = "https://project.supabase.co/storage/v1/object/sign/recordings/call.ogg?token=abc"

# SYNTHETIC, shaped like integrations-reference.md §5.1 (no diarized recording among the fixtures):
# two speakers, utterances present.
DIARIZED: dict[str, Any] = {
    "metadata": {
        "request_id": "5f0d5b9e-0000-4000-8000-000000000001",
        "duration": 7.5,
        "channels": 1,
        "extra": {"callback_secret": "s3cret"},
    },
    "results": {
        "channels": [
            {
                "alternatives": [
                    {
                        "transcript": "Bonjour Marie. Bonjour, comment allez-vous ? Très bien.",
                        "confidence": 0.98,
                        "words": [
                            {
                                "word": "bonjour",
                                "start": 0.1,
                                "end": 0.5,
                                "confidence": 0.99,
                                "speaker": 0,
                                "speaker_confidence": 0.9,
                                "punctuated_word": "Bonjour",
                            },
                            {
                                "word": "marie",
                                "start": 0.5,
                                "end": 0.9,
                                "confidence": 0.99,
                                "speaker": 0,
                                "speaker_confidence": 0.9,
                                "punctuated_word": "Marie.",
                            },
                            {
                                "word": "bonjour",
                                "start": 1.2,
                                "end": 1.6,
                                "confidence": 0.99,
                                "speaker": 1,
                                "speaker_confidence": 0.8,
                                "punctuated_word": "Bonjour,",
                            },
                            {
                                "word": "comment",
                                "start": 1.6,
                                "end": 2.0,
                                "confidence": 0.99,
                                "speaker": 1,
                                "speaker_confidence": 0.8,
                                "punctuated_word": "comment",
                            },
                            {
                                "word": "allez-vous",
                                "start": 2.0,
                                "end": 2.6,
                                "confidence": 0.99,
                                "speaker": 1,
                                "speaker_confidence": 0.8,
                                "punctuated_word": "allez-vous ?",
                            },
                            {
                                "word": "très",
                                "start": 3.0,
                                "end": 3.3,
                                "confidence": 0.99,
                                "speaker": 0,
                                "speaker_confidence": 0.9,
                                "punctuated_word": "Très",
                            },
                            {
                                "word": "bien",
                                "start": 3.3,
                                "end": 3.6,
                                "confidence": 0.99,
                                "speaker": 0,
                                "speaker_confidence": 0.9,
                                "punctuated_word": "bien.",
                            },
                        ],
                    }
                ]
            }
        ],
        "utterances": [
            {
                "start": 0.1,
                "end": 0.9,
                "confidence": 0.99,
                "channel": 0,
                "transcript": "Bonjour Marie.",
                "words": [],
                "speaker": 0,
                "id": "u-1",
            },
            {
                "start": 1.2,
                "end": 2.6,
                "confidence": 0.99,
                "channel": 0,
                "transcript": "Bonjour, comment allez-vous ?",
                "words": [],
                "speaker": 1,
                "id": "u-2",
            },
            {
                "start": 3.0,
                "end": 3.6,
                "confidence": 0.99,
                "channel": 0,
                "transcript": "Très bien.",
                "words": [],
                "speaker": 0,
                "id": "u-3",
            },
        ],
    },
}


@pytest.fixture
def basic(fixture_json: Callable[[str], Any]) -> dict[str, Any]:
    body: dict[str, Any] = fixture_json("deepgram_prerecorded_basic")
    body.pop("_source")
    return body


def _client(api_key: str | None = "dg-key") -> DeepgramClient:
    return DeepgramClient(api_key)


def _expected_params(**overrides: str) -> dict[str, str]:
    return {
        "model": "nova-3",
        "language": "fr",
        "diarize": "true",
        "punctuate": "true",
        "smart_format": "true",
        "utterances": "true",
        **overrides,
    }


async def test_transcribe_url_with_the_real_fixture(basic: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).respond(200, json=basic)
        result = await _client().transcribe_url(AUDIO_URL)
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Token dg-key"
    assert request.headers["Content-Type"] == "application/json"
    assert dict(request.url.params) == _expected_params()
    assert json.loads(request.content) == {"url": AUDIO_URL}
    assert isinstance(result, Transcript)
    assert result.request_id == "686278aa-d315-4aeb-b2a9-713615544366"
    assert result.duration == pytest.approx(25.933313)
    assert result.transcript.startswith("Yeah. As as much as, it's worth celebrating")
    # No diarization in this recording: one segment, speaker unknown, punctuated words joined.
    assert len(result.segments) == 1
    segment = result.segments[0]
    assert segment.speaker is None
    assert segment.start == pytest.approx(0.08)
    last_word = basic["results"]["channels"][0]["alternatives"][0]["words"][-1]
    assert segment.end == pytest.approx(last_word["end"])
    assert segment.text.startswith("Yeah. As as much as, it's worth celebrating,")


async def test_model_comes_from_the_caller(basic: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).respond(200, json=basic)
        await _client().transcribe_url(AUDIO_URL, model="nova-2-meeting")
    assert route.calls.last.request.url.params["model"] == "nova-2-meeting"


async def test_transcribe_bytes_uploads_audio() -> None:
    audio = b"OggS\x00fake-audio"
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).respond(200, json=DIARIZED)
        result = await _client().transcribe_bytes(audio, content_type="audio/ogg")
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "audio/ogg"
    assert request.headers["Authorization"] == "Token dg-key"
    assert request.content == audio
    assert dict(request.url.params) == _expected_params()
    assert isinstance(result, Transcript)
    assert [(s.speaker, s.start, s.end, s.text) for s in result.segments] == [
        (0, 0.1, 0.9, "Bonjour Marie."),
        (1, 1.2, 2.6, "Bonjour, comment allez-vous ?"),
        (0, 3.0, 3.6, "Très bien."),
    ]
    assert result.request_id == "5f0d5b9e-0000-4000-8000-000000000001"
    assert result.duration == 7.5


def test_segments_from_words_when_utterances_are_absent() -> None:
    body = json.loads(json.dumps(DIARIZED))
    del body["results"]["utterances"]
    result = parse_transcription(body)
    assert [(s.speaker, s.start, s.end, s.text) for s in result.segments] == [
        (0, 0.1, 0.9, "Bonjour Marie."),
        (1, 1.2, 2.6, "Bonjour, comment allez-vous ?"),
        (0, 3.0, 3.6, "Très bien."),
    ]


def test_callback_body_parses_with_extra() -> None:
    result = parse_transcription(DIARIZED)
    assert result.extra == {"callback_secret": "s3cret"}


async def test_callback_mode_returns_request_id_only() -> None:
    callback = "https://api.foxeo.app/webhooks/deepgram"
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).respond(200, json={"request_id": "cb-request-1"})
        accepted = await _client().transcribe_url(
            AUDIO_URL, callback_url=callback, extra={"callback_secret": "s3cret", "meeting": "m-1"}
        )
    params = route.calls.last.request.url.params
    assert params["callback"] == callback
    assert params.get_list("extra") == ["callback_secret:s3cret", "meeting:m-1"]
    assert isinstance(accepted, TranscriptionAccepted)
    assert accepted.request_id == "cb-request-1"


async def test_transcription_is_not_retried_on_503() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).respond(503, json={"err_code": "Service Unavailable", "err_msg": "busy"})
        with pytest.raises(TransientError):
            await _client().transcribe_url(AUDIO_URL)
    assert route.call_count == 1


async def test_400_is_a_request_error_with_deepgram_message() -> None:
    error = {
        "err_code": "Bad Request",
        "err_msg": "Bad Request: failed to process audio: corrupt or unsupported data",
        "request_id": "00000000-0000-0000-0000-000000000000",
    }
    async with respx.mock(assert_all_called=True) as mock:
        mock.post(LISTEN).respond(400, json=error)
        with pytest.raises(RequestError) as info:
            await _client().transcribe_bytes(b"nope", content_type="audio/wav")
    assert info.value.status_code == 400
    assert info.value.vendor == "deepgram"
    assert info.value.vendor_message == error["err_msg"]


async def test_401_invalid_key() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.post(LISTEN).respond(
            401, json={"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials.", "request_id": "r"}
        )
        with pytest.raises(RequestError, match="Invalid credentials"):
            await _client().transcribe_url(AUDIO_URL)


@pytest.mark.parametrize("api_key", [None, ""])
async def test_not_configured(api_key: str | None) -> None:
    async with respx.mock(assert_all_called=False) as mock:
        with pytest.raises(NotConfiguredError) as info:
            await _client(api_key).transcribe_url(AUDIO_URL)
        assert info.value.setting == "DEEPGRAM_API_KEY"
        with pytest.raises(NotConfiguredError):
            await _client(api_key).transcribe_bytes(b"x", content_type="audio/ogg")
    assert not mock.calls


async def test_input_validation() -> None:
    with pytest.raises(ValueError):
        await _client().transcribe_url("file:///etc/passwd")
    with pytest.raises(ValueError):
        await _client().transcribe_bytes(b"", content_type="audio/ogg")


def test_long_read_timeout_for_big_files() -> None:
    timeout = _client().http_client.timeout
    assert timeout.read is not None and timeout.read >= 300
    assert timeout.connect is not None and timeout.connect <= 15


async def test_timeout_is_transient_and_not_retried() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.post(LISTEN).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(TransientError):
            await _client().transcribe_url(AUDIO_URL)
    assert route.call_count == 1
