"""Field types shared by several modules' schemas."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field


def _check_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not re.fullmatch(r"[\w\- ]{1,40}", tag):
            raise ValueError(f"tag {tag!r} must be 1-40 letters, digits, spaces, '-' or '_'")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


Tags = Annotated[list[str], Field(max_length=30), AfterValidator(_check_tags)]
"""Up to 30 tags, lower-cased, de-duplicated, each 1-40 word characters, spaces or dashes."""
