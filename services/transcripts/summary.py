"""Summaries and action items written by an LLM, as JSON validated against `Summary`: an invalid
answer is sent back once with the validation errors; a second invalid one is kept, flagged, as raw text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from integrations.llm import AnthropicClient, ChatMessage, DeepSeekClient, LLMClient, ModelPricing
from services.core.settings import Settings
from services.transcripts.schemas import SegmentRead, Summary

MAX_TRANSCRIPT_CHARS = 400_000  # far under both vendors' context windows, in characters

SYSTEM = """Tu résumes une réunion entre un consultant (MiKL) et son client, en français.
Réponds UNIQUEMENT par un objet JSON, sans texte autour ni bloc de code, de la forme :
{"summary": "<résumé en quelques paragraphes>",
 "action_items": [{"title": "<action concrète>", "owner": "operator" | "client" | "both",
                   "due_date": "<AAAA-MM-JJ>" ou null, "details": "<précisions>"}]}
N'invente rien : seulement ce qui a été dit ou décidé."""


@dataclass(frozen=True)
class SummaryModel:
    """The LLM the summary job uses (a process resource, built from settings)."""

    client: LLMClient


def summary_model(settings: Settings) -> SummaryModel:
    if settings.summary_llm_provider == "anthropic":
        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
        pricing = ModelPricing(settings.anthropic_price_input_per_million, settings.anthropic_price_output_per_million)
        return SummaryModel(AnthropicClient(key, settings.anthropic_model, pricing=pricing))
    key = settings.deepseek_api_key.get_secret_value() if settings.deepseek_api_key else None
    pricing = ModelPricing(
        settings.deepseek_price_input_per_million,
        settings.deepseek_price_output_per_million,
        cached_input_per_million=settings.deepseek_price_cached_per_million,
    )
    return SummaryModel(DeepSeekClient(key, settings.deepseek_model, pricing=pricing))


def transcript_prompt(segments: Sequence[SegmentRead]) -> str:
    lines = [
        f"[{s.start_seconds:.0f}s] Intervenant {s.speaker if s.speaker is not None else '?'} : {s.text}"
        for s in segments
    ]
    return "Transcription de la réunion :\n\n" + "\n".join(lines)[:MAX_TRANSCRIPT_CHARS]


def _json_text(text: str) -> str:
    """The JSON object in an answer, tolerating a ```json fence some models add anyway."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[-1].rsplit("```", 1)[0]
    return stripped.strip()


@dataclass(frozen=True)
class SummaryOutcome:
    summary: Summary | None
    raw: str  # the last answer, kept when no valid summary came out


async def write_summary(llm: LLMClient, segments: Sequence[SegmentRead], *, max_tokens: int) -> SummaryOutcome:
    messages = [ChatMessage("user", transcript_prompt(segments))]
    answer = ""
    for _ in range(2):
        answer = (await llm.complete(messages, system=SYSTEM, max_tokens=max_tokens)).text
        try:
            return SummaryOutcome(Summary.model_validate_json(_json_text(answer)), answer)
        except ValidationError as exc:
            errors = json.dumps(exc.errors(include_url=False, include_context=False), default=str)[:4000]
            messages += [
                ChatMessage("assistant", answer),
                ChatMessage("user", f"Réponse invalide ({errors}). Renvoie uniquement l'objet JSON demandé."),
            ]
    return SummaryOutcome(None, answer)
