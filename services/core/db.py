"""Connection pool and the two session types: a user session under RLS and a service session.

A user session's first round trip sets the JWT claims and `role authenticated`, so RLS policies
decide what a user sees (what PostgREST does). A writing session is one transaction: the settings
are transaction-local, and it ends with COMMIT or ROLLBACK. A read-only session (GET requests) sets
them for the connection instead and runs each statement in its own read-only transaction, so it
needs no BEGIN and no COMMIT: one round trip fewer per read. Each statement of a READ COMMITTED
transaction already took its own snapshot, so a read sees nothing different. A one-statement session
is the same for a write that is a single statement (one SQL function call): PostgreSQL commits it as
the statement ends, so the locks it took are released without waiting for another round trip. A
second statement raises: the first has committed by then, so a write that needs two is a transaction.

Connections that carry a user's identity live in their own pool and never serve the service
session, which has no claims and runs as the connecting role: jobs, webhooks, the CLI. The two
session types are distinct so a service session cannot be passed where a user session is expected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import orjson

from services.core.auth import Principal
from services.core.errors import Unauthorized

USER_GONE = "FX401"  # raised by private.require_current_user() (migration 0055)


def _json_encode(value: Any) -> str:
    return orjson.dumps(value).decode()


async def no_session_reset(conn: asyncpg.Connection) -> None:
    """Everything a request sets is transaction-local (`set local`, `set_config(..., true)`), and
    asyncpg still rolls back an open transaction on release; skipping the default RESET ALL / UNLISTEN
    query saves a round trip per request. Nothing may LISTEN or set session state on pooled
    connections (the event listener has a dedicated connection)."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=_json_encode, decoder=orjson.loads, schema="pg_catalog")


def is_pooler(dsn: str) -> bool:
    """Supavisor in transaction mode cannot keep server-side prepared statements."""
    parts = urlsplit(dsn)
    return parts.port == 6543 or "pooler.supabase.com" in (parts.hostname or "")


def asyncpg_dsn(dsn: str) -> str:
    return dsn.replace("postgresql+asyncpg://", "postgresql://", 1)


def sql_literal(text: str) -> str:
    """Quote for the simple-query protocol (standard_conforming_strings is on everywhere we run)."""
    if "\x00" in text:
        raise ValueError("NUL byte in SQL literal")
    return "'" + text.replace("'", "''") + "'"


class TransactionAborted(RuntimeError):
    """A commit was asked for but PostgreSQL rolled back: an earlier statement had failed."""


class _Session:
    """A connection inside an open transaction; queries use asyncpg's $n parameters."""

    __slots__ = ("conn", "request_id")

    def __init__(self, conn: asyncpg.Connection, request_id: str | None = None) -> None:
        self.conn = conn
        self.request_id = request_id

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.conn.fetch(query, *args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        status: str = await self.conn.execute(query, *args)
        return status


class UserSession(_Session):
    """Runs as `authenticated` with the caller's claims: RLS applies. `in_transaction`: its statements
    share one transaction, which `end_user_session` commits or rolls back."""

    __slots__ = ("in_transaction", "principal", "read_only")

    def __init__(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        request_id: str | None = None,
        *,
        read_only: bool = False,
        in_transaction: bool = True,
    ) -> None:
        super().__init__(conn, request_id)
        self.principal = principal
        self.read_only = read_only
        self.in_transaction = in_transaction


class OneStatementSession(UserSession):
    """A user session that runs one statement: a write that needs a second one belongs in a
    transaction (`Database.begin_user_session` without `one_statement`)."""

    __slots__ = ("_spent",)

    def __init__(self, conn: asyncpg.Connection, principal: Principal, request_id: str | None, *, in_transaction: bool):
        super().__init__(conn, principal, request_id, in_transaction=in_transaction)
        self._spent = False

    def _spend(self) -> None:
        if self._spent:
            raise RuntimeError("a one-statement session ran a second statement: it needs a transaction")
        self._spent = True

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self._spend()
        return await super().fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        self._spend()
        return await super().fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self._spend()
        return await super().fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        self._spend()
        return await super().execute(query, *args)


class ServiceSession(_Session):
    """Runs as the service's own role, bypassing RLS: never handed to request code."""

    __slots__ = ()


AnySession = UserSession | ServiceSession


class Database:
    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self.dsn = asyncpg_dsn(dsn)
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._user_pool: asyncpg.Pool | None = None
        # Turns at the user pool, first come first served. asyncpg wakes a waiter when a connection
        # is released, but a request that asks in between takes it first and the waiter queues again
        # at the back: with more requests than connections some waited many turns (p99 5-7x the
        # median in bench/postgrest_bench.py). asyncio's Semaphore hands a released turn to its
        # oldest waiter, and with one turn per connection asyncpg always has one free.
        self._turns = asyncio.Semaphore(pool_size)
        # Users whose profile row this process has already ensured (see private.ensure_profile).
        self._profiled: set[str] = set()

    async def open(self) -> None:
        self._pool = await self._create_pool()
        self._user_pool = await self._create_pool()

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self.dsn,
            min_size=min(2, self.pool_size),
            max_size=self.pool_size,
            init=_init_connection,
            reset=no_session_reset,
            statement_cache_size=0 if is_pooler(self.dsn) else 256,
            server_settings={"timezone": "UTC", "application_name": "foxeo"},
        )

    async def close(self) -> None:
        for pool in (self._user_pool, self._pool):
            if pool is not None:
                await pool.close()
        self._pool = self._user_pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database pool is not open")
        return self._pool

    @property
    def user_pool(self) -> asyncpg.Pool:
        """Connections that run as `authenticated` with some user's claims: user sessions only."""
        if self._user_pool is None:
            raise RuntimeError("database pool is not open")
        return self._user_pool

    def _setup_sql(self, principal: Principal, *, in_transaction: bool, read_only: bool) -> str:
        claims = sql_literal(principal.claims_json)
        if in_transaction:
            sql = (
                f"begin read write; select set_config('request.jwt.claims', {claims}, true);"
                " set local role authenticated;"
            )
        else:
            # Session-level settings, overwritten by the next user of the connection before anything
            # runs; read-only for a read, so a write attempted by a GET fails instead of committing.
            sql = (
                f"select set_config('request.jwt.claims', {claims}, false); set role authenticated;"
                f" set default_transaction_read_only = {'on' if read_only else 'off'};"
            )
        # The user check runs on every request: a signed token outlives a deleted user.
        sql += " select private.require_current_user();"
        if principal.subject not in self._profiled:  # always in a transaction (see begin_user_session)
            sql += " select private.ensure_profile();"
        return sql

    async def begin_user_session(
        self,
        principal: Principal,
        request_id: str | None = None,
        *,
        read_only: bool = False,
        one_statement: bool = False,
    ) -> UserSession:
        """Acquire a connection and set up the user's session: a transaction, unless `read_only` or
        `one_statement`, where each statement is its own; pair with `end_user_session`."""
        # A user's first request writes their profile row, so it runs as a transaction.
        in_transaction = not (read_only or one_statement) or principal.subject not in self._profiled
        read_only = read_only and not in_transaction
        await self._turns.acquire()
        try:
            conn = await self.user_pool.acquire()
        except BaseException:
            self._turns.release()
            raise
        try:
            # One round trip: (begin +) claims + role + user check (+ the profile on first sight), as
            # one implicit transaction outside a transaction, so a failing check leaves nothing behind.
            await conn.execute(self._setup_sql(principal, in_transaction=in_transaction, read_only=read_only))
        except BaseException as exc:
            await self._release(conn)
            if isinstance(exc, asyncpg.PostgresError) and exc.sqlstate == USER_GONE:
                raise Unauthorized("the user of this token no longer exists") from None
            raise
        # Marked at once so the user's concurrent sessions do not wait on this one's uncommitted profile
        # row; if this request rolls back, profiles' own repair (ensure_own) writes it later.
        self._profiled.add(principal.subject)
        if one_statement and not read_only:
            return OneStatementSession(conn, principal, request_id, in_transaction=in_transaction)
        return UserSession(conn, principal, request_id, read_only=read_only, in_transaction=in_transaction)

    async def end_user_session(self, session: UserSession, *, commit: bool) -> None:
        if not session.in_transaction:  # every statement has ended its own transaction
            await self._release(session.conn)
            return
        try:
            status = await session.conn.execute("commit" if commit else "rollback")
        finally:
            await self._release(session.conn)
        if commit and status != "COMMIT":
            # PostgreSQL answers COMMIT of a transaction a swallowed error aborted with ROLLBACK, not
            # an error: without this check a handler that caught a database error would answer 2xx
            # for writes that were all discarded.
            raise TransactionAborted("the transaction had failed and was rolled back")

    async def _release(self, conn: asyncpg.Connection) -> None:
        try:
            await self.user_pool.release(conn)
        finally:
            self._turns.release()

    @asynccontextmanager
    async def user_session(self, principal: Principal, request_id: str | None = None) -> AsyncIterator[UserSession]:
        """One transaction as the user; commits on success, rolls back on any exception."""
        session = await self.begin_user_session(principal, request_id)
        try:
            yield session
        except BaseException:
            await self.end_user_session(session, commit=False)
            raise
        await self.end_user_session(session, commit=True)

    @asynccontextmanager
    async def service_session(self, request_id: str | None = None) -> AsyncIterator[ServiceSession]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield ServiceSession(conn, request_id)
