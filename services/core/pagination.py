"""Keyset pagination, written once for every list: an opaque cursor carrying the last row's sort
values, a `Keyset` that orders a SQLAlchemy statement and continues after a cursor, and `next_page`
that cuts the `limit + 1` rows fetched into a page and the next cursor."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson
from pydantic import BaseModel
from sqlalchemy import Select, Text, bindparam, cast, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

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


class Keyset:
    """A sort order that pages by value: `columns` are the sort expressions, ending with a unique one
    (the id), all in one direction; `kinds` are their cursor types (see `read_cursor`)."""

    __slots__ = ("columns", "descending", "kinds")

    def __init__(self, *columns: ColumnElement[Any], kinds: tuple[type, ...], descending: bool) -> None:
        if len(columns) != len(kinds):
            raise ValueError("one cursor kind per keyset column")
        self.columns = columns
        self.kinds = kinds
        self.descending = descending

    def apply(self, statement: Select[Any], *, after: bool) -> Select[Any]:
        """Order `statement`, continue after the cursor's values when `after`, and fetch `limit + 1`
        rows (bind names `after_0`… and `limit`, filled by `values`)."""
        if after:
            marker = tuple_(*(bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(self.columns)))
            position = tuple_(*self.columns)
            statement = statement.where(position < marker if self.descending else position > marker)
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        return statement.order_by(*order).limit(bindparam("limit"))

    def json_page(self, statement: Select[Any], *, after: bool) -> Select[Any]:
        """One page of `statement`'s rows rendered as JSON by Postgres: rows of (json, key_0, …), the
        keys being the keyset values `page_json` turns into the next cursor."""
        page = self.apply(statement, after=after).subquery("t")
        adapt = ClauseAdapter(page).traverse
        keys = [adapt(column).label(f"key_{i}") for i, column in enumerate(self.columns)]
        order = [k.desc() if self.descending else k.asc() for k in keys]
        return select(cast(func.row_to_json(page.table_valued()), Text).label("json"), *keys).order_by(*order)

    def page_json(self, rows: Sequence[Any], limit: int) -> bytes:
        """A `Page` as JSON bytes from `json_page`'s `limit + 1` rows."""
        names = [f"key_{i}" for i in range(len(self.columns))]
        page, cursor = next_page(rows, limit, lambda row: [row[name] for name in names])
        return page_bytes([row["json"] for row in page], cursor)

    def values(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """The bind values of `apply`'s statement for this page."""
        values: dict[str, Any] = {"limit": limit + 1}
        # `is not None`, as the statement's shape is chosen: an empty cursor is a forged one (422), not
        # a first page whose statement waits for keyset values (found by tests/contract/test_schemathesis.py).
        if cursor is not None:
            values.update((f"after_{i}", v) for i, v in enumerate(read_cursor(cursor, *self.kinds)))
        return values


R = TypeVar("R")


def next_page(rows: Sequence[R], limit: int, key: Callable[[R], Sequence[Any]]) -> tuple[Sequence[R], str | None]:
    """The page's rows and the cursor of the next page (None on the last), from `limit + 1` rows."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(*key(rows[limit - 1]))
