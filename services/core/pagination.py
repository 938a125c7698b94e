"""Keyset pagination: an opaque cursor carrying the last row's sort key and id."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from services.core.errors import Unprocessable

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values, default=str)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The values `encode_cursor` packed; a cursor that is not ours is a 422, not a 500."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise Unprocessable("cursor is not valid", field="cursor") from None
    if not isinstance(values, list) or len(values) != arity:
        raise Unprocessable("cursor is not valid", field="cursor")
    return values


def page_bytes(rows_json: list[str], next_cursor: str | None) -> bytes:
    """A Page serialised around rows Postgres already rendered as JSON."""
    cursor = orjson.dumps(next_cursor)
    return b'{"items":[' + ",".join(rows_json).encode() + b'],"next_cursor":' + cursor + b"}"
