"""The storage interface every backend implements, its value types and its errors.

Object paths are relative to the backend's bucket (`clients/<id>/documents/<id>/v1/brief.pdf`); the
caller builds them, a backend only refuses paths that could escape the bucket.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from integrations.errors import IntegrationError

DEFAULT_CHUNK = 64 * 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """Where and how the browser sends the bytes: `method` the raw body to `url` with `headers`."""

    url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: datetime
    token: str | None = None


@dataclass(frozen=True, slots=True)
class SignedDownload:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    path: str
    size: int
    content_type: str | None
    etag: str | None = None
    last_modified: datetime | None = field(default=None, compare=False)


@runtime_checkable
class StorageBackend(Protocol):
    """Object storage behind signed URLs: Supabase Storage in production, a local folder embedded."""

    kind: str
    bucket: str

    async def create_signed_upload(
        self, path: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> SignedUpload:
        """A short-lived URL the browser uploads one new object to (never overwrites)."""
        ...

    async def create_signed_download(
        self, path: str, *, expires_in: int, download_name: str | None = None
    ) -> SignedDownload:
        """A short-lived URL that serves the object as an attachment named `download_name`."""
        ...

    async def info(self, path: str) -> ObjectInfo | None:
        """Size and content type of a stored object; None when there is no such object."""
        ...

    def stream(self, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncGenerator[bytes, None]:
        """The object's bytes, in order; raises ObjectNotFound. Stop iterating to stop reading."""
        ...

    async def put(self, path: str, data: bytes, *, content_type: str) -> ObjectInfo:
        """Store a new object from the server itself; ObjectExists if the path is taken."""
        ...

    async def delete(self, paths: Sequence[str]) -> None:
        """Remove these objects; missing ones are not an error (erasure is idempotent)."""
        ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------- errors


class StorageError(IntegrationError):
    """Base of the errors a storage backend raises on its own (not the vendor's HTTP errors)."""


class ObjectNotFound(StorageError):
    def __init__(self, vendor: str, path: str) -> None:
        super().__init__(vendor, f"no object at {path}")
        self.path = path


class ObjectExists(StorageError):
    def __init__(self, vendor: str, path: str) -> None:
        super().__init__(vendor, f"an object already exists at {path}")
        self.path = path


class ObjectTooLarge(StorageError):
    def __init__(self, vendor: str, limit: int) -> None:
        super().__init__(vendor, f"the object is larger than the {limit} bytes this link allows")
        self.limit = limit


class InvalidObjectPath(StorageError):
    def __init__(self, vendor: str, path: str, reason: str) -> None:
        super().__init__(vendor, f"invalid object path {path!r}: {reason}")
        self.path = path
        self.reason = reason


class SignedLinkError(StorageError):
    """A signed link that is missing, forged, altered, for another object, or expired."""

    def __init__(self, vendor: str, reason: Literal["missing", "invalid", "expired"], message: str) -> None:
        super().__init__(vendor, message)
        self.reason = reason


def check_bucket(bucket: str) -> str:
    if not _BUCKET.match(bucket):
        raise ValueError(f"bucket name {bucket!r} must be 1-63 of a-z, 0-9, '.', '_' or '-'")
    return bucket


def check_path(vendor: str, path: str) -> str:
    """Refuse paths that are absolute, empty, hold `.`/`..` segments, backslashes or control chars."""
    if not path or len(path) > 1024:
        raise InvalidObjectPath(vendor, path[:80], "empty or longer than 1024 characters")
    if path.startswith("/") or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise InvalidObjectPath(vendor, path, "absolute, or holds a backslash or a control character")
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise InvalidObjectPath(vendor, path, "empty, '.' or '..' segment")
    return path
