"""LLM clients behind one interface (`LLMClient`): DeepSeek (openai SDK) and Anthropic (anthropic SDK)."""

from integrations.llm.base import (
    ChatMessage,
    LLMChunk,
    LLMClient,
    LLMResponse,
    LLMUsage,
    ModelPricing,
    cost,
)
from integrations.llm.claude import AnthropicClient
from integrations.llm.deepseek import DeepSeekClient

__all__ = [
    "AnthropicClient",
    "ChatMessage",
    "DeepSeekClient",
    "LLMChunk",
    "LLMClient",
    "LLMResponse",
    "LLMUsage",
    "ModelPricing",
    "cost",
]
