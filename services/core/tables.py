"""The shared SQLAlchemy MetaData that every module's `tables.py` registers its tables on.

The SQL migrations are the source of truth; these definitions mirror them (tests/core/test_tables.py
compares them with the migrated database) so Python code has a typed description of the schema."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData(schema="public")
