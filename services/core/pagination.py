"""Keyset pagination: an opaque cursor carrying the last row's sort key and id."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

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


def _unpack(cursor: str, arity: int) -> list[Any]:
    """The raw values `encode_cursor` packed."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise Unprocessable("cursor is not valid", field="cursor") from None
    if not isinstance(values, list) or len(values) != arity:
        raise Unprocessable("cursor is not valid", field="cursor")
    return values


_INT64 = 2**63


def _coerce(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise ValueError("not an aware timestamp")
        return parsed.astimezone(UTC)
    if kind is UUID:
        if not isinstance(value, str):
            raise ValueError("not a uuid")
        return UUID(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 <= value < _INT64:
            raise ValueError("not a 64-bit integer")
        return value
    if kind is str:
        if not isinstance(value, str) or len(value) > 1000 or "\x00" in value:  # text cannot hold NUL
            raise ValueError("not a string")
        return value
    raise TypeError(f"unsupported cursor value kind {kind!r}")


def read_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The cursor's values converted to `kinds` (datetime, UUID, int, str). A cursor that is not
    ours, or was edited, is a 422 — never a query argument the database chokes on."""
    values = _unpack(cursor, len(kinds))
    try:
        return [_coerce(value, kind) for value, kind in zip(values, kinds, strict=True)]
    except (TypeError, ValueError, OverflowError):  # OverflowError: out of range once in UTC
        raise Unprocessable("cursor is not valid", field="cursor") from None


def page_bytes(rows_json: list[str], next_cursor: str | None) -> bytes:
    """A Page serialised around rows Postgres already rendered as JSON."""
    cursor = orjson.dumps(next_cursor)
    return b'{"items":[' + ",".join(rows_json).encode() + b'],"next_cursor":' + cursor + b"}"
