"""SQLAlchemy Core statements, compiled for asyncpg once per query shape and run on the request's
own asyncpg connection.

A repository writes each dynamic query as a *builder*: a function whose arguments describe the
shape of the query (which filters are present, which sort), never the values. `@shaped` builds and
compiles the statement the first time a shape is seen and caches the result; values are bound by
name at execution. So no SQL is assembled from strings at request time, and the per-request cost
is a dict lookup and the bind list — not SQLAlchemy's compiler.

    @shaped
    def _list(*, status: bool, sort: str) -> Select[Any]:
        stmt = select(clients.c.id).where(clients.c.status == bindparam("status")) if status else ...
        return stmt

    rows = await _list(status=status is not None, sort=sort).fetch(session, status=status)

Fixed statements may stay as named SQL constants run with `session.fetch(SQL, ...)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec

import asyncpg
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, ClauseElement

from services.core.db import AnySession

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_REQUIRED = object()

P = ParamSpec("P")


class Compiled:
    """One statement compiled for asyncpg: its SQL (`$n` placeholders) and how to order the values."""

    __slots__ = ("_defaults", "_names", "sql")

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            # `in_()` with a list renders per call; write `column == any_(bindparam(..., ARRAY))` instead.
            raise ValueError("statements must not need per-call rendering (use = any(array) for lists)")
        self.sql: str = compiled.string
        names = compiled.positiontup or []
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        self._names: tuple[str, ...] = tuple(names)
        # Binds that carry their own value (literals in the statement) versus those named at execution.
        self._defaults: dict[str, Any] = {
            name: _REQUIRED if binds[name].required else binds[name].effective_value for name in names
        }

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        unknown = values.keys() - self._defaults.keys()
        if unknown:
            raise KeyError(f"unknown bind parameters {sorted(unknown)}")
        out = [values[name] if name in values else self._defaults[name] for name in self._names]
        if any(value is _REQUIRED for value in out):
            raise KeyError(f"no value for bind parameter {self._names[out.index(_REQUIRED)]!r}")
        return out

    async def fetch(self, session: AnySession, **values: Any) -> list[asyncpg.Record]:
        return await session.fetch(self.sql, *self.args(values))

    async def fetchrow(self, session: AnySession, **values: Any) -> asyncpg.Record | None:
        return await session.fetchrow(self.sql, *self.args(values))

    async def fetchval(self, session: AnySession, **values: Any) -> Any:
        return await session.fetchval(self.sql, *self.args(values))

    async def execute(self, session: AnySession, **values: Any) -> str:
        return await session.execute(self.sql, *self.args(values))


def shaped(builder: Callable[P, ClauseElement]) -> Callable[P, Compiled]:
    """Cache the compiled statement per distinct shape (the builder's arguments must be hashable)."""

    cache: Callable[..., Compiled] = functools.cache(lambda *args, **kwargs: Compiled(builder(*args, **kwargs)))

    @functools.wraps(builder)
    def lookup(*args: P.args, **kwargs: P.kwargs) -> Compiled:
        return cache(*args, **kwargs)

    return lookup


def compiled(statement: ClauseElement) -> Compiled:
    """Compile a statement whose shape never varies (use it at import time, as a module constant)."""
    return Compiled(statement)


def bound(columns: ReadOnlyColumnCollection[str, Any], names: Iterable[str]) -> dict[str, BindParameter[Any]]:
    """A bind parameter per named column, typed as the column (the values of a partial insert or
    update: `insert(t).values(bound(t.c, names))`)."""
    return {n: bindparam(n, type_=columns[n].type) for n in names}
