from __future__ import annotations

from services.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable


class DocumentNotFound(NotFound):
    code = "document_not_found"

    def __init__(self) -> None:
        super().__init__("no such document, or it is not yours to see")


class VersionNotFound(NotFound):
    code = "document_version_not_found"


class UploadNotFound(NotFound):
    code = "document_upload_not_found"

    def __init__(self) -> None:
        super().__init__("no such pending upload, or it is not yours")


class DocumentReadOnly(Forbidden):
    code = "document_read_only"


class DocumentForbidden(Forbidden):
    code = "document_forbidden"


class DocumentArchived(Conflict):
    code = "document_archived"


class DocumentNotArchived(Conflict):
    code = "document_not_archived"


class HomeworkConflict(Conflict):
    code = "homework_conflict"


class UploadNotReceived(Conflict):
    code = "upload_not_received"


class UploadExpired(Conflict):
    code = "upload_expired"


class ClientArchived(Conflict):
    code = "client_archived"


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"


class FileRefused(Unprocessable):
    """The file is not acceptable: type not allowed, magic bytes disagree, size or checksum differs."""

    code = "file_refused"


class DocumentInvalid(Unprocessable):
    code = "document_invalid"
