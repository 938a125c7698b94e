from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.core.input_types import Int, IsoDateTime, Omittable
from services.core.schemas import Timestamp
from services.core.validation import Tags

DocumentType = Literal["livrable", "ressource", "devoir", "archive"]
Visibility = Literal["shared", "internal"]
Source = Literal["operator", "client", "orpheus", "elio", "meeting"]
DocumentStatus = Literal["new", "validated"]
Phase = Literal["lab", "one"]
HomeworkState = Literal["due", "overdue", "completed"]
DocumentSort = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "title", "-title", "homework_due_at", "-homework_due_at"
]


def _check_title(title: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in title):  # NUL would even be a database error
        raise ValueError("the title must not contain control characters")
    return title


def _check_due(due: datetime | None) -> datetime | None:
    """Within what both Postgres and Python can represent, with room to spare."""
    if due is None:
        return None
    try:
        year = due.astimezone(UTC).year if due.tzinfo else due.year
    except OverflowError:
        year = 0
    if not 1970 <= year <= 2999:
        raise ValueError("the due date must be between the years 1970 and 2999")
    return due


Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_check_title)
]
DueDate = Annotated[IsoDateTime | None, AfterValidator(_check_due)]
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class DocumentFields(BaseModel):
    title: Title | None = Field(None, description="Defaults to the file name")
    document_type: DocumentType = "ressource"
    visibility: Visibility = Field("shared", description="`internal`: the operator only (operator sets)")
    source: Source | None = Field(
        None, description="Who produced it; `client` for a client's upload, `operator` by default for the operator"
    )
    tags: Tags = []
    project_id: UUID | None = None
    homework_due_at: DueDate = Field(None, description="Homework (`devoir`) only")


class DocumentMeta(DocumentFields):
    """A new document's metadata (JSON)."""

    model_config = ConfigDict(extra="forbid")


class DocumentForm(DocumentFields):
    """A new document's metadata as multipart form fields beside `file`."""


class FileDeclaration(BaseModel):
    """The file the caller is about to upload straight to storage."""

    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(min_length=1, max_length=255)
    size_bytes: Int = Field(ge=1, description="Exact size in bytes; checked on confirm")
    mime_type: str = Field(
        min_length=3,
        max_length=255,
        description="Checked against the allow-list and, on confirm, the file's magic bytes",
    )
    sha256: Sha256 | None = Field(None, description="Optional; when given, checked on confirm")


class NewDocumentUpload(FileDeclaration):
    document: DocumentMeta = Field(default_factory=lambda: DocumentMeta.model_validate({}))


class DocumentUpdate(BaseModel):
    """Only the fields sent are changed; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    title: Omittable[Title] = None
    tags: Tags | None = None
    document_type: Omittable[DocumentType] = None
    visibility: Omittable[Visibility] = None
    status: DocumentStatus | None = None
    project_id: UUID | None = None
    homework_due_at: DueDate = None


class VersionRead(BaseModel):
    id: UUID
    version: int
    file_name: str
    size_bytes: int
    mime_type: str
    sha256: str
    uploaded_by: UUID | None
    created_at: Timestamp


class DocumentRead(BaseModel):
    id: UUID
    client_id: UUID
    project_id: UUID | None
    title: str
    tags: list[str]
    document_type: DocumentType
    visibility: Visibility
    source: Source
    status: DocumentStatus | None
    phase: Phase
    is_homework: bool
    homework_due_at: Timestamp | None
    homework_completed: bool
    homework_completed_at: Timestamp | None
    current_version: VersionRead | None
    archived_at: Timestamp | None
    created_by: UUID | None
    created_at: Timestamp
    updated_at: Timestamp


class TypeCounts(BaseModel):
    livrable: int
    ressource: int
    devoir: int
    archive: int


class HomeworkCounts(BaseModel):
    due: int
    overdue: int
    completed: int


class DocumentCounts(BaseModel):
    total: int
    by_type: TypeCounts
    homework: HomeworkCounts


class SignedUploadRead(BaseModel):
    url: str = Field(description="Send the raw bytes here")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="Headers to send with the bytes")
    expires_at: Timestamp


class UploadTicket(BaseModel):
    """Send the bytes as `upload` says, then confirm the upload."""

    upload_id: UUID
    document_id: UUID
    version: int
    file_name: str
    upload: SignedUploadRead
    confirm_before: Timestamp


class DownloadLink(BaseModel):
    url: str
    expires_at: Timestamp
    version: int
    file_name: str
    mime_type: str
    size_bytes: int


class StoredObject(BaseModel):
    """What a signed upload answers (Supabase Storage's shape)."""

    Key: str = Field(description="`bucket/path` of the stored object")


class HomeworkDue(BaseModel):
    """Open homework due soon, for the reminders engine."""

    id: UUID
    client_id: UUID
    title: str
    homework_due_at: Timestamp
