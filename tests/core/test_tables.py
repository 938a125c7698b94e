"""The SQLAlchemy table definitions mirror the migrated database exactly (columns, types, nullability,
primary keys, which columns have a database default), and every public table has one."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, TypedDict

import pytest
from sqlalchemy import Connection, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeEngine

import services
from services.core.tables import metadata


def load_all_tables() -> None:
    for module in pkgutil.iter_modules(services.__path__):
        try:
            importlib.import_module(f"services.{module.name}.tables")
        except ModuleNotFoundError as exc:
            if exc.name != f"services.{module.name}.tables":
                raise


def type_name(sql_type: TypeEngine[Any]) -> str:
    # SQLAlchemy leaves its dialect constructors unannotated.
    return str(sql_type.compile(dialect=postgresql.dialect())).lower()  # type: ignore[no-untyped-call]


class ReflectedTable(TypedDict):
    columns: dict[str, ReflectedColumn]
    pk: set[str]


@pytest.fixture
async def reflected(database_url: str) -> dict[str, ReflectedTable]:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:

            def read(sync_conn: Connection) -> dict[str, ReflectedTable]:
                inspector = inspect(sync_conn)
                return {
                    t: {
                        "columns": {c["name"]: c for c in inspector.get_columns(t, schema="public")},
                        "pk": set(inspector.get_pk_constraint(t, schema="public")["constrained_columns"]),
                    }
                    for t in inspector.get_table_names(schema="public")
                }

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def test_definitions_match_the_migrated_database(reflected: dict[str, ReflectedTable]) -> None:
    load_all_tables()
    problems = []
    for table in metadata.tables.values():
        db = reflected.get(table.name)
        if db is None:
            problems.append(f"{table.name}: not in the database")
            continue
        if set(table.columns.keys()) != set(db["columns"]):
            problems.append(f"{table.name}: columns {sorted(table.columns.keys())} != {sorted(db['columns'])}")
            continue
        for column in table.columns:
            actual = db["columns"][column.name]
            if type_name(column.type) != type_name(actual["type"]):
                problems.append(f"{table.name}.{column.name}: {type_name(column.type)} != {type_name(actual['type'])}")
            if column.nullable != actual["nullable"]:
                problems.append(f"{table.name}.{column.name}: nullable {column.nullable} != {actual['nullable']}")
            # Statements built on these tables leave such columns to the database (FetchedValue()).
            has_default = actual.get("default") is not None or bool(actual.get("identity") or actual.get("computed"))
            if (column.server_default is not None) != has_default:
                problems.append(
                    f"{table.name}.{column.name}: server default declared {column.server_default is not None}"
                    f" != {has_default} in the database"
                )
        if {c.name for c in table.primary_key} != db["pk"]:
            problems.append(f"{table.name}: primary key differs")
    missing = sorted(set(reflected) - {t.name for t in metadata.tables.values()})
    if missing:
        problems.append(f"tables without a definition: {', '.join(missing)}")
    assert problems == []
