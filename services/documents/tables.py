"""Mirror of migrations/0010_documents.sql (tests/core/test_tables.py keeps them equal)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.core.tables import metadata

documents = Table(
    "documents",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid),  # the projects module (0030) adds the foreign key
    Column("title", Text, nullable=False),
    Column("tags", ARRAY(Text), nullable=False, server_default=FetchedValue()),
    Column("document_type", Text, nullable=False, server_default=FetchedValue()),
    Column("visibility", Text, nullable=False, server_default=FetchedValue()),
    Column("source", Text, nullable=False, server_default=FetchedValue()),
    Column("status", Text),
    Column("phase", Text, nullable=False),
    Column("is_homework", Boolean, Computed("document_type = 'devoir'", persisted=True)),
    Column("homework_due_at", DateTime(timezone=True)),
    Column("homework_completed", Boolean, nullable=False, server_default=FetchedValue()),
    Column("homework_completed_at", DateTime(timezone=True)),
    Column("current_version_id", Uuid, ForeignKey("public.document_versions.id", ondelete="SET NULL", use_alter=True)),
    Column("archived_at", DateTime(timezone=True)),
    Column("created_by", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    UniqueConstraint("id", "client_id"),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("document_id", Uuid, nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("storage_path", Text, nullable=False, unique=True),
    Column("file_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("uploaded_by", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    UniqueConstraint("document_id", "version"),
    ForeignKeyConstraint(
        ["document_id", "client_id"], ["public.documents.id", "public.documents.client_id"], ondelete="CASCADE"
    ),
)

document_uploads = Table(
    "document_uploads",
    metadata,
    Column("id", Uuid, primary_key=True, server_default=FetchedValue()),
    Column("client_id", Uuid, ForeignKey("public.clients.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", Uuid, nullable=False),  # no FK: a new document exists only once confirmed
    Column("is_new_document", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("storage_path", Text, nullable=False, unique=True),
    Column("file_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("sha256", Text),
    Column("document", JSONB),
    Column("created_by", Uuid, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=FetchedValue()),
    UniqueConstraint("document_id", "version"),
)
