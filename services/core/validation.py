"""Field types shared by several modules' schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

# The pattern is declared in the schema, not only enforced; it applies to the trimmed, lower-cased
# tag, and its `\w` is Unicode-aware (pydantic's regex engine), so 'café' is a tag.
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40, pattern=r"^[\w\- ]+$")
]


def _dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=30), AfterValidator(_dedupe)]
"""Up to 30 tags, lower-cased, de-duplicated, each 1-40 word characters, spaces or dashes."""
