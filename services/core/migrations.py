"""Forward-only SQL migrations: applied in order, checksummed, serialised by an advisory lock."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.core.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
BOOTSTRAP_SQL = PROJECT_ROOT / "supabase" / "bootstrap.sql"
LOCK_KEY = 0x466F7865  # "Foxe": one key for every replica of this service

_LEDGER = """
create schema if not exists foxeo_meta;
create table if not exists foxeo_meta.schema_migrations (
  version text primary key,
  checksum text not null,
  applied_at timestamptz not null default now()
);
"""


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [Migration(p.stem, p, p.read_text()) for p in sorted(directory.glob("*.sql"))]


async def _applied(conn: asyncpg.Connection) -> dict[str, str]:
    if await conn.fetchval("select to_regclass('foxeo_meta.schema_migrations')") is None:
        return {}
    rows = await conn.fetch("select version, checksum from foxeo_meta.schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


def _check_edits(migrations: list[Migration], applied: dict[str, str]) -> None:
    known = {m.version for m in migrations}
    for m in migrations:
        if m.version in applied and applied[m.version] != m.checksum:
            raise MigrationError(
                f"migration {m.path.name} was edited after it was applied; write a new migration instead"
            )
    missing = sorted(set(applied) - known)
    if missing:
        raise MigrationError(f"applied migrations missing from {MIGRATIONS_DIR}: {', '.join(missing)}")


async def pending(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Versions not yet applied; raises when an applied file was edited."""
    migrations = discover(directory)
    applied = await _applied(conn)
    _check_edits(migrations, applied)
    return [m.version for m in migrations if m.version not in applied]


async def migrate(dsn: str, directory: Path = MIGRATIONS_DIR, *, bootstrap: bool = True) -> list[str]:
    """Apply the Supabase bootstrap (where objects are missing) and every pending migration."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("select pg_advisory_lock($1)", LOCK_KEY)
        try:
            if bootstrap:
                await conn.execute(BOOTSTRAP_SQL.read_text())
            await conn.execute(_LEDGER)
            migrations = discover(directory)
            applied = await _applied(conn)
            _check_edits(migrations, applied)
            done = []
            for m in migrations:
                if m.version in applied:
                    continue
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(
                        "insert into foxeo_meta.schema_migrations (version, checksum) values ($1, $2)",
                        m.version,
                        m.checksum,
                    )
                log.info("applied migration %s", m.path.name)
                done.append(m.version)
            return done
        finally:
            await conn.execute("select pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()
