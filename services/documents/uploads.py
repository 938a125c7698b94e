"""Getting bytes in: direct multipart uploads (small files) and the signed-URL flow (any size).

Signed flow: the caller declares the file; we check the rights and limits, reserve the next version
number and its object path in `document_uploads`, and hand out a short-lived upload URL. The browser
sends the bytes straight to storage. On confirm we check the object exists, has the declared size and
type, that its first bytes match the type, hash it, and only then record the version (and the new
document). A refused file is deleted from storage and leaves no document or version row; its pending
upload stays reserved until it expires and the sweeper (jobs.py) removes it.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from pydantic import ValidationError

from integrations.errors import IntegrationError
from integrations.storage import ObjectExists, StorageBackend
from services.audit import service as audit
from services.core.db import ServiceSession, UserSession
from services.documents import repository, service
from services.documents.errors import (
    DocumentInvalid,
    FileRefused,
    FileTooLarge,
    UploadExpired,
    UploadNotFound,
    UploadNotReceived,
)
from services.documents.files import (
    HEAD_BYTES,
    check_allowed,
    check_magic,
    check_size,
    display_name,
    normalize_mime,
)
from services.documents.schemas import (
    DocumentFields,
    DocumentMeta,
    DocumentRead,
    FileDeclaration,
    NewDocumentUpload,
    SignedUploadRead,
    UploadTicket,
)
from services.documents.storage import DocumentFiles, object_path

log = logging.getLogger(__name__)

# How long after its upload URL expires a pending upload can still be confirmed (a large upload
# started just before expiry may finish well after it).
CONFIRM_GRACE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class _Verified:
    size: int
    sha256: str


async def discard(storage: StorageBackend, path: str) -> None:
    """Best effort: a failure is logged (for a pending upload, the sweeper tries again later)."""
    try:
        await storage.delete([path])
    except IntegrationError:
        log.warning("could not delete a refused object", extra={"path": path}, exc_info=True)


def _version_values(
    session: UserSession, *, path: str, file_name: str, size: int, mime: str, sha256: str
) -> dict[str, Any]:
    return {
        "storage_path": path,
        "file_name": file_name,
        "size_bytes": size,
        "mime_type": mime,
        "sha256": sha256,
        "uploaded_by": session.principal.user_id,
    }


# ---------------------------------------------------------------- direct (multipart) uploads


class IncomingFile(Protocol):
    """A file part of a multipart request (FastAPI's UploadFile fits)."""

    filename: str | None
    content_type: str | None
    size: int | None

    async def read(self, size: int = -1) -> bytes: ...


async def _accept_file(files: DocumentFiles, file: IncomingFile) -> tuple[str, bytes]:
    """The file's MIME type and bytes once size, allow-list and magic bytes agree."""
    limit = files.rules.direct_max_bytes
    check_size(file.size if file.size is not None else 1, limit, field="file")
    data = await file.read(limit + 1)  # never more than the limit in memory, whatever `size` said
    check_size(len(data), limit, field="file")
    mime = normalize_mime(file.content_type or "application/octet-stream", field="file")
    check_allowed(mime, files.rules, field="file")
    check_magic(mime, data[:HEAD_BYTES], field="file")
    return mime, data


async def upload_new_document(
    session: UserSession, files: DocumentFiles, client_id: UUID, meta: DocumentFields, file: IncomingFile
) -> DocumentRead:
    """A new document from a small file sent through the API."""
    file_name = display_name(file.filename or "file", field="file")
    values = await service.new_document_values(session, client_id, meta, file_name)
    mime, data = await _accept_file(files, file)
    document_id = uuid4()
    path = object_path(client_id, document_id, 1, file_name)
    await files.storage.put(path, data, content_type=mime)
    try:
        return await service.create_with_version(
            session,
            document_id,
            values,
            _version_values(
                session,
                path=path,
                file_name=file_name,
                size=len(data),
                mime=mime,
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        )
    except BaseException:
        await discard(files.storage, path)
        raise


async def upload_version(
    session: UserSession, files: DocumentFiles, document_id: UUID, file: IncomingFile
) -> DocumentRead:
    """A new version of a document from a small file sent through the API."""
    before = await service.writable(session, document_id, service.member_may_add_version)
    file_name = display_name(file.filename or "file", field="file")
    mime, data = await _accept_file(files, file)
    number = await repository.next_version(session, document_id)
    path = object_path(before.client_id, document_id, number, file_name)
    try:
        await files.storage.put(path, data, content_type=mime)
    except ObjectExists:
        # No version and no pending upload holds this number (and we hold the document's lock), so the
        # object is a stray: the late PUT of an upload cancelled while its bytes were still in flight.
        await files.storage.delete([path])
        await files.storage.put(path, data, content_type=mime)
    try:
        return await service.add_version(
            session,
            before,
            number,
            _version_values(
                session,
                path=path,
                file_name=file_name,
                size=len(data),
                mime=mime,
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        )
    except BaseException:
        await discard(files.storage, path)
        raise


# ---------------------------------------------------------------- signed-URL uploads


def _declared_type(files: DocumentFiles, data: FileDeclaration) -> str:
    mime = normalize_mime(data.mime_type)
    check_allowed(mime, files.rules)
    check_size(data.size_bytes, files.rules.max_bytes)
    return mime


async def _issue(
    session: UserSession,
    files: DocumentFiles,
    *,
    client_id: UUID,
    document_id: UUID,
    number: int,
    file_name: str,
    mime: str,
    data: FileDeclaration,
    document: dict[str, Any] | None,
) -> UploadTicket:
    path = object_path(client_id, document_id, number, file_name)
    signed = await files.storage.create_signed_upload(
        path, content_type=mime, max_bytes=data.size_bytes, expires_in=files.rules.link_ttl_seconds
    )
    upload_id = await repository.insert_upload(
        session,
        {
            "client_id": client_id,
            "document_id": document_id,
            "is_new_document": document is not None,
            "version": number,
            "storage_path": path,
            "file_name": file_name,
            "size_bytes": data.size_bytes,
            "mime_type": mime,
            "sha256": data.sha256,
            "document": document,
            "created_by": session.principal.user_id,
            "expires_at": signed.expires_at,
        },
    )
    await audit.record(
        session,
        action="document.upload_requested",
        entity_type="document_upload",
        entity_id=upload_id,
        client_id=client_id,
        after={
            "document_id": str(document_id),
            "version": number,
            "file_name": file_name,
            "size_bytes": data.size_bytes,
            "mime_type": mime,
        },
    )
    return UploadTicket(
        upload_id=upload_id,
        document_id=document_id,
        version=number,
        file_name=file_name,
        upload=SignedUploadRead(
            url=signed.url, method=signed.method, headers=signed.headers, expires_at=signed.expires_at
        ),
        confirm_before=signed.expires_at + CONFIRM_GRACE,
    )


async def request_document_upload(
    session: UserSession, files: DocumentFiles, client_id: UUID, data: NewDocumentUpload
) -> UploadTicket:
    """An upload URL for the first version of a new document (created on confirm)."""
    file_name = display_name(data.file_name)
    values = await service.new_document_values(session, client_id, data.document, file_name)
    mime = _declared_type(files, data)
    meta = data.document.model_copy(update={"title": values["title"]})
    return await _issue(
        session,
        files,
        client_id=client_id,
        document_id=uuid4(),
        number=1,
        file_name=file_name,
        mime=mime,
        data=data,
        document=meta.model_dump(mode="json"),
    )


async def request_version_upload(
    session: UserSession, files: DocumentFiles, document_id: UUID, data: FileDeclaration
) -> UploadTicket:
    """An upload URL for the next version of a document."""
    before = await service.writable(session, document_id, service.member_may_add_version)
    file_name, mime = display_name(data.file_name), _declared_type(files, data)
    number = await repository.next_version(session, document_id)
    return await _issue(
        session,
        files,
        client_id=before.client_id,
        document_id=document_id,
        number=number,
        file_name=file_name,
        mime=mime,
        data=data,
        document=None,
    )


async def _verify_stored(files: DocumentFiles, ticket: Any) -> _Verified:
    """Check the uploaded object against the declaration; delete it if it is refused."""
    path, declared, mime = ticket["storage_path"], ticket["size_bytes"], ticket["mime_type"]
    info = await files.storage.info(path)
    if info is None:
        raise UploadNotReceived("nothing has been uploaded to the upload URL yet")
    try:
        check_size(info.size, files.rules.max_bytes)
        if info.size != declared:
            raise FileRefused(f"storage received {info.size} bytes, {declared} were declared", field="size_bytes")
        if info.content_type and normalize_mime(info.content_type) != mime:
            raise FileRefused(f"the file was sent as {info.content_type}, {mime} was declared", field="mime_type")
        digest, head, size = hashlib.sha256(), b"", 0
        async with aclosing(files.storage.stream(path)) as chunks:
            async for chunk in chunks:
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                    if len(head) >= HEAD_BYTES:
                        check_magic(mime, head)  # before reading the rest
                digest.update(chunk)
                size += len(chunk)
                if size > declared:
                    break
        if len(head) < HEAD_BYTES:
            check_magic(mime, head)
        if size != declared:
            raise FileRefused(f"storage holds {size} bytes, {declared} were declared", field="size_bytes")
        if ticket["sha256"] and digest.hexdigest() != ticket["sha256"]:
            raise FileRefused("the file's SHA-256 differs from the one declared", field="sha256")
    except (FileRefused, FileTooLarge):
        await discard(files.storage, path)
        raise
    return _Verified(size=size, sha256=digest.hexdigest())


async def confirm_upload(session: UserSession, files: DocumentFiles, upload_id: UUID) -> bytes:
    """Record the version an upload URL received (and create its document): the DocumentRead JSON.

    Nothing is locked while the object is read: the rights are checked first, then the object, and the
    row work (lock the pending upload, then its document; insert the version; audit) is one SQL call
    that re-checks what may have changed meanwhile."""
    ticket = await repository.get_upload(session, upload_id)
    if ticket is None:
        raise UploadNotFound()
    if datetime.now(UTC) > ticket["expires_at"] + CONFIRM_GRACE:
        raise UploadExpired("this upload has expired: request a new upload URL")
    # Rights are checked again now: the client may have been archived or graduated meanwhile.
    document: dict[str, Any] | None = None
    if ticket["is_new_document"]:
        try:
            meta = DocumentMeta.model_validate(ticket["document"])
        except ValidationError:  # only a row written straight into the table can hold this
            raise DocumentInvalid(
                "this upload's document metadata is not valid: request a new upload", field="document"
            ) from None
        document = await service.new_document_values(session, ticket["client_id"], meta, ticket["file_name"])
    else:
        await service.writable(session, ticket["document_id"], service.member_may_add_version, lock=False)
    verified = await _verify_stored(files, ticket)
    try:
        answer = await repository.confirm_upload(
            session, upload_id, size_bytes=verified.size, sha256=verified.sha256, document=document
        )
    except DocumentInvalid:  # e.g. the project named at request time is gone
        await discard(files.storage, ticket["storage_path"])
        raise
    return answer.encode()


async def cancel_upload(session: UserSession, files: DocumentFiles, upload_id: UUID) -> None:
    """Abandon a pending upload: its object (if any) and its reservation go."""
    ticket = await repository.get_upload(session, upload_id, for_update=True)
    if ticket is None:
        raise UploadNotFound()
    await repository.delete_upload(session, upload_id)
    await audit.record(
        session,
        action="document.upload_cancelled",
        entity_type="document_upload",
        entity_id=upload_id,
        client_id=ticket["client_id"],
        before={"document_id": str(ticket["document_id"]), "version": ticket["version"]},
    )
    await files.storage.delete([ticket["storage_path"]])


async def sweep_expired_uploads(session: ServiceSession, storage: StorageBackend, *, limit: int = 500) -> int:
    """Remove pending uploads nobody confirmed in time, and whatever they had uploaded."""
    rows = await repository.expired_uploads(session, grace=CONFIRM_GRACE, limit=limit)
    if not rows:
        return 0
    await storage.delete([r["storage_path"] for r in rows])
    await repository.delete_uploads(session, [r["id"] for r in rows])
    for r in rows:
        await audit.record(
            session,
            action="document.upload_expired",
            entity_type="document_upload",
            entity_id=r["id"],
            client_id=r["client_id"],
            before={"document_id": str(r["document_id"]), "version": r["version"]},
        )
    return len(rows)
