"""Vendor payloads for the transcription chain: Deepgram shaped like the real pre-recorded response
(tests/fixtures/deepgram_prerecorded_basic.json) with diarization, and DeepSeek's recorded completion."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import respx
from fastapi import FastAPI

from integrations.llm import DeepSeekClient
from services.transcripts.summary import SummaryModel
from tests.integrations.test_llm import RespxBridge
from tests.meetings.conftest import settings, twirp  # noqa: F401 - the same LiveKit setup

FIXTURES = Path(__file__).parent.parent / "fixtures"
LISTEN = "https://api.deepgram.com/v1/listen"
DEEPSEEK_URL = "https://api.deepseek.com/chat/completions"


def _word(word: str, start: float, speaker: int) -> dict[str, Any]:
    return {
        "word": word.lower().strip(".,?"),
        "start": start,
        "end": round(start + 0.4, 2),
        "confidence": 0.97,
        "speaker": speaker,
        "speaker_confidence": 0.8,
        "punctuated_word": word,
    }


def diarized() -> dict[str, Any]:
    """The real basic payload's envelope, re-filled with two French speakers; the second utterance is
    labelled speaker 1 but its last two words were diarized to speaker 0 (a mid-utterance change, as in
    real diarized payloads)."""
    body: dict[str, Any] = json.loads((FIXTURES / "deepgram_prerecorded_basic.json").read_text())
    body.pop("_source")
    first = [_word(w, 0.1 + i * 0.4, 0) for i, w in enumerate(["Bonjour", "Alice."])]
    second = [_word(w, 1.5 + i * 0.4, 1) for i, w in enumerate(["Bonjour,", "on", "lance", "le", "site."])]
    second += [_word(w, 3.5 + i * 0.4, 0) for i, w in enumerate(["Très", "bien."])]
    words = first + second
    alternative = body["results"]["channels"][0]["alternatives"][0]
    alternative.update({"transcript": " ".join(w["punctuated_word"] for w in words), "words": words})
    body["metadata"]["duration"] = 4.3
    body["results"]["utterances"] = [
        {"start": 0.1, "end": 0.9, "confidence": 0.97, "channel": 0, "transcript": "Bonjour Alice.",
         "words": first, "speaker": 0, "id": "u-1"},
        {"start": 1.5, "end": 4.3, "confidence": 0.95, "channel": 0,
         "transcript": "Bonjour, on lance le site. Très bien.", "words": second, "speaker": 1, "id": "u-2"},
    ]  # fmt: skip
    return body


def completion(content: str) -> dict[str, Any]:
    recorded = json.loads((FIXTURES / "deepseek_chat_completion.json").read_text())["response"]
    answer: dict[str, Any] = copy.deepcopy(recorded)
    answer["model"] = "deepseek-flash"
    answer["choices"][0]["message"]["content"] = content
    return answer


SUMMARY = {
    "summary": "Lancement du site d'Alpha Studio validé.",
    "action_items": [
        {"title": "Envoyer la maquette", "owner": "operator", "due_date": "2026-12-07", "details": ""},
        {"title": "Rédiger les textes de l'accueil", "owner": "client", "due_date": None, "details": "Ton chaleureux"},
    ],
}


@pytest.fixture
def vendors() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def llm(app: FastAPI, vendors: respx.MockRouter) -> AsyncIterator[None]:
    """The summary model talks to the respx router (openai sends through httpx2, see test_llm.py)."""
    async with httpx2.AsyncClient(transport=RespxBridge(vendors)) as http:
        client = DeepSeekClient("ds-key", "deepseek-flash", http_client=http, max_retries=0)
        app.state.job_context.resources.provide(SummaryModel, SummaryModel(client))
        yield
