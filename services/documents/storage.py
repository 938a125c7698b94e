"""The storage backend from settings, and where documents live in it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from integrations.storage import LocalStorage, StorageBackend, SupabaseStorage
from services.core.settings import Settings
from services.documents.files import FileRules, storage_name


@dataclass(frozen=True, slots=True)
class DocumentFiles:
    """What the upload and download flows need: the backend and the acceptance rules."""

    storage: StorageBackend
    rules: FileRules


def use_supabase(settings: Settings) -> bool:
    if settings.storage_backend == "supabase":
        return True
    return settings.storage_backend == "auto" and bool(settings.supabase_url and settings.supabase_secret_key)


def build_storage(settings: Settings) -> StorageBackend:
    """Supabase Storage when configured (or forced), a local folder otherwise."""
    if use_supabase(settings):
        if not settings.supabase_url or not settings.supabase_secret_key:
            raise ValueError("FOXEO_STORAGE_BACKEND=supabase needs SUPABASE_URL and SUPABASE_SECRET_KEY")
        return SupabaseStorage(
            settings.supabase_url, settings.supabase_secret_key.get_secret_value(), settings.storage_bucket
        )
    return LocalStorage(
        settings.storage_dir or settings.data_dir / "storage",
        bucket=settings.storage_bucket,
        signing_key=settings.signing_key(),
        public_url=settings.public_base_url.rstrip("/") + "/api/v1/storage",
    )


def object_path(client_id: UUID, document_id: UUID, version: int, file_name: str) -> str:
    """The one object a version (or its pending upload) may name: migrations/0011 checks every row's path."""
    return f"clients/{client_id}/documents/{document_id}/v{version}/{storage_name(file_name)}"
