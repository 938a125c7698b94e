from __future__ import annotations

from sqlalchemy import Column, DateTime, FetchedValue, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

profiles = Table(
    "profiles",
    metadata,
    Column("user_id", Uuid, primary_key=True),  # references auth.users
    Column("display_name", Text),
    Column("avatar_url", Text),
    Column("locale", Text, nullable=False, server_default=FetchedValue()),
    Column("theme", Text, nullable=False, server_default=FetchedValue()),
    Column("notification_prefs", JSONB, nullable=False, server_default=FetchedValue()),
    Column("quiet_hours", JSONB, nullable=False, server_default=FetchedValue()),
    Column("onboarding", JSONB, nullable=False, server_default=FetchedValue()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
)
