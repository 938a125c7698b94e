"""The local storage backend's signed links, served by the API itself (api/routers/storage.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from integrations.storage import (
    InvalidObjectPath,
    LocalDownload,
    LocalStorage,
    ObjectExists,
    ObjectNotFound,
    ObjectTooLarge,
    SignedLinkError,
    StorageBackend,
)
from services.core.errors import Conflict, Forbidden, FoxeoError, NotFound, PayloadTooLarge, Unauthorized
from services.documents.schemas import StoredObject


class SignedLinkMissing(Unauthorized):
    code = "signed_link_missing"


class SignedLinkInvalid(Forbidden):
    code = "signed_link_invalid"


class SignedLinkExpired(Forbidden):
    code = "signed_link_expired"


class StoredObjectNotFound(NotFound):
    code = "object_not_found"


class StoredObjectExists(Conflict):
    code = "object_exists"


class StoredObjectTooLarge(PayloadTooLarge):
    code = "object_too_large"


def _local(storage: StorageBackend, bucket: str) -> LocalStorage:
    if not isinstance(storage, LocalStorage) or storage.bucket != bucket:
        raise StoredObjectNotFound("no such bucket here: signed links are served by the storage backend")
    return storage


def _problem(exc: Exception) -> FoxeoError:
    if isinstance(exc, SignedLinkError):
        cls = {"missing": SignedLinkMissing, "expired": SignedLinkExpired}.get(exc.reason, SignedLinkInvalid)
        return cls(exc.message)
    if isinstance(exc, ObjectExists):
        return StoredObjectExists("an object is already stored at this path")
    if isinstance(exc, ObjectTooLarge):
        return StoredObjectTooLarge(exc.message, limit=exc.limit)
    return StoredObjectNotFound("no such object")


async def receive(
    storage: StorageBackend,
    bucket: str,
    path: str,
    token: str | None,
    body: AsyncIterator[bytes],
    content_type: str | None,
) -> StoredObject:
    local = _local(storage, bucket)
    try:
        await local.receive_upload(path, token, body, content_type=content_type)
    except (SignedLinkError, ObjectExists, ObjectTooLarge, InvalidObjectPath) as exc:
        raise _problem(exc) from None
    return StoredObject(Key=f"{bucket}/{path}")


async def open_download(storage: StorageBackend, bucket: str, path: str, token: str | None) -> LocalDownload:
    local = _local(storage, bucket)
    try:
        return await local.open_download(path, token)
    except (SignedLinkError, ObjectNotFound, InvalidObjectPath) as exc:
        raise _problem(exc) from None
