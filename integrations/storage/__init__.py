"""Object storage: one interface, two backends (Supabase Storage, a local folder)."""

from integrations.storage.base import (
    InvalidObjectPath,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectTooLarge,
    SignedDownload,
    SignedLinkError,
    SignedUpload,
    StorageBackend,
    StorageError,
)
from integrations.storage.local import LocalDownload, LocalStorage
from integrations.storage.supabase import SupabaseStorage

__all__ = [
    "InvalidObjectPath",
    "LocalDownload",
    "LocalStorage",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectTooLarge",
    "SignedDownload",
    "SignedLinkError",
    "SignedUpload",
    "StorageBackend",
    "StorageError",
    "SupabaseStorage",
]
