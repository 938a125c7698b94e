"""Small builders for the SQL every repository writes: parameter lists, INSERT and UPDATE … RETURNING.

Column names come from our own schemas (model field names), never from a caller's string; they are
still checked against an identifier pattern so a mistake cannot turn into SQL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg

from services.core.db import AnySession

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _names(values: Mapping[str, Any]) -> list[str]:
    names = list(values)
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a column name: {name!r}")
    return names


class Params:
    """Collects query arguments and hands back their `$n` placeholders, for queries built from filters."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


async def insert_returning(
    session: AnySession, table: str, values: Mapping[str, Any], returning: str
) -> asyncpg.Record:
    names = _names(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    row = await session.fetchrow(
        f"insert into {table} ({', '.join(names)}) values ({placeholders}) returning {returning}", *values.values()
    )
    assert row is not None  # an INSERT … RETURNING without conflict clause always returns its row
    return row


async def update_returning(
    session: AnySession,
    table: str,
    where: str,
    where_args: tuple[Any, ...],
    values: Mapping[str, Any],
    returning: str,
    *,
    touch_updated_at: bool = True,
) -> asyncpg.Record | None:
    """UPDATE `table` SET values WHERE `where` (whose placeholders are $1..$k for `where_args`)."""
    names = _names(values)
    start = len(where_args) + 1
    assignments = [f"{name} = ${i}" for i, name in enumerate(names, start=start)]
    if touch_updated_at:
        assignments.append("updated_at = now()")
    return await session.fetchrow(
        f"update {table} set {', '.join(assignments)} where {where} returning {returning}",
        *where_args,
        *values.values(),
    )
