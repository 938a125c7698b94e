from __future__ import annotations

from sqlalchemy import Column, DateTime, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from services.core.tables import metadata

profiles = Table(
    "profiles",
    metadata,
    Column("user_id", Uuid, primary_key=True),  # references auth.users
    Column("display_name", Text),
    Column("avatar_url", Text),
    Column("locale", Text, nullable=False),
    Column("theme", Text, nullable=False),
    Column("notification_prefs", JSONB, nullable=False),
    Column("quiet_hours", JSONB, nullable=False),
    Column("onboarding", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
