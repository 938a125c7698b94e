"""The storage backend from settings, and where documents live in it."""

from __future__ import annotations

import secrets
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


def _local_signing_key(settings: Settings) -> bytes:
    # settings.signing_key() derives from the JWT secret; a JWKS-only project has none, and a key
    # derived from nothing would be public knowledge. Keep a random one beside the data instead.
    if settings.supabase_jwt_secret or not settings.supabase_url:
        return settings.signing_key()
    path = settings.data_dir / "storage-signing-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return settings.signing_key() + path.read_text().strip().encode()


def build_storage(settings: Settings) -> StorageBackend:
    """Supabase Storage when configured (or forced), a local folder otherwise."""
    if use_supabase(settings):
        if not settings.supabase_url or not settings.supabase_secret_key:
            raise ValueError("FOXEO_STORAGE_BACKEND=supabase needs SUPABASE_URL and SUPABASE_SECRET_KEY")
        return SupabaseStorage(settings.supabase_url, settings.supabase_secret_key.get_secret_value(),
                               settings.storage_bucket)
    return LocalStorage(settings.storage_dir or settings.data_dir / "storage", bucket=settings.storage_bucket,
                        signing_key=_local_signing_key(settings),
                        public_url=settings.public_base_url.rstrip("/") + "/api/v1/storage")


def object_path(client_id: UUID, document_id: UUID, version: int, file_name: str) -> str:
    return f"clients/{client_id}/documents/{document_id}/v{version}/{storage_name(file_name)}"


def document_prefix(client_id: UUID, document_id: UUID) -> str:
    return f"clients/{client_id}/documents/{document_id}/"
