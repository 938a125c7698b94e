"""Free-form JSON in request bodies: one type, bounded in depth and size, storable and encodable.

Every schema field that takes arbitrary JSON uses `JsonObject`, so a body the JSON encoder or the
database cannot handle (too deep for orjson's recursion limit, a lone surrogate, NUL, an integer
beyond 64 bits, NaN) is a 422 naming the field instead of a 500 once it reaches them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator

MAX_DEPTH = 32
MAX_BYTES = 64 * 1024
_INT64 = 2**63


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise ValueError(f"{where} contains NUL, which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{where} is not valid Unicode (a lone surrogate)") from None


def _check_scalar(value: Any) -> None:
    if isinstance(value, str):
        _check_text(value, "a string")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise ValueError("a number is outside the 64-bit integer range")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a number is not finite (NaN or Infinity)")


def check_json(value: dict[str, Any]) -> dict[str, Any]:
    """Walk iteratively (a recursive walk would itself hit Python's limit) before encoding."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError(f"JSON is nested more than {MAX_DEPTH} levels deep")
            if isinstance(node, dict):
                for key in node:
                    _check_text(key, "a key")
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
        else:
            _check_scalar(node)
    if len(orjson.dumps(value)) > MAX_BYTES:
        raise ValueError(f"JSON is larger than {MAX_BYTES // 1024} KiB once encoded")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
"""A free-form JSON object accepted from a caller: at most MAX_DEPTH levels deep, MAX_BYTES encoded."""
