"""Documents: deliverables, resources, homework and archives, with versions in object storage."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message

from api.deps import OperatorSession, Session
from api.problems import JSONBytes, responses
from services.core.errors import PayloadTooLarge
from services.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from services.documents import service, uploads
from services.documents.errors import FileTooLarge
from services.documents.files import FileRules
from services.documents.repository import Filters
from services.documents.schemas import (
    DocumentCounts,
    DocumentForm,
    DocumentRead,
    DocumentSort,
    DocumentStatus,
    DocumentType,
    DocumentUpdate,
    DownloadLink,
    FileDeclaration,
    HomeworkState,
    NewDocumentUpload,
    Phase,
    Source,
    UploadTicket,
    VersionRead,
    Visibility,
)
from services.documents.storage import DocumentFiles

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the metadata fields beside the file


class BoundedBodyRoute(APIRoute):
    """FastAPI reads (and spools to disk) a multipart body before any dependency runs, authentication
    included: a body past the direct-upload limit is refused as it arrives, before it is parsed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            if request.method in ("GET", "HEAD"):
                return await handler(request)
            direct_max = FileRules.from_settings(request.app.state.settings).direct_max_bytes
            limit = direct_max + MULTIPART_OVERHEAD
            too_large = (
                FileTooLarge(
                    f"the file is over the {direct_max}-byte limit of direct uploads: use a signed upload",
                    field="file",
                    limit=direct_max,
                )
                if request.headers.get("content-type", "").startswith("multipart/")
                else PayloadTooLarge(f"the request body is larger than {limit} bytes", limit=limit)
            )
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_large
            received, receive = 0, request.receive

            async def counted() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
                return message

            try:
                return await handler(Request(request.scope, counted))
            except HTTPException as exc:  # FastAPI turns errors while reading the body into a 400
                if exc.__cause__ is too_large:
                    raise too_large from None
                raise

        return bounded


# Above the app-wide JSON limit (api/app.py): BoundedBodyRoute enforces the configured upload limit.
router = APIRouter(tags=["documents"], route_class=BoundedBodyRoute, max_body_size=1024 * 1024 * 1024)


def get_files(request: Request) -> DocumentFiles:
    return DocumentFiles(request.app.state.storage, FileRules.from_settings(request.app.state.settings))


def get_filters(
    client_id: UUID | None = None,
    project_id: UUID | None = None,
    document_type: DocumentType | None = None,
    tag: str | None = Query(None, max_length=40),
    source: Source | None = None,
    visibility: Visibility | None = None,
    status: DocumentStatus | None = None,
    phase: Phase | None = Query(None, description="`lab` lists a graduated client's Lab history"),
    homework: HomeworkState | None = Query(None, description="`overdue` across clients for the operator"),
    q: str | None = Query(None, min_length=1, max_length=100, description="Free text over title and tags"),
    archived: bool = Query(False, description="true: only archived documents"),
) -> Filters:
    return Filters(
        client_id=client_id,
        project_id=project_id,
        document_type=document_type,
        tag=tag.strip().lower() if tag else None,
        source=source,
        visibility=visibility,
        status=status,
        phase=phase,
        homework=homework,
        q=q,
        archived=archived,
    )


Files = Annotated[DocumentFiles, Depends(get_files)]
ListFilters = Annotated[Filters, Depends(get_filters)]
Upload = Annotated[UploadFile, File(description="The file (at most FOXEO_DIRECT_UPLOAD_MAX_BYTES)")]


@router.get("/documents", response_model=Page[DocumentRead], responses=responses(401, 422))
async def list_documents(
    session: Session,
    filters: ListFilters,
    sort: DocumentSort = "-created_at",
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
) -> JSONBytes:
    """List the documents I may see, with filters, sorted, one keyset page at a time."""
    return JSONBytes(await service.list_documents_json(session, filters, sort=sort, cursor=cursor, limit=limit))


@router.get("/documents/counts", response_model=DocumentCounts, responses=responses(401, 422))
async def count_documents(session: Session, filters: ListFilters) -> DocumentCounts:
    """Count documents per type and homework state (the type and homework filters are ignored)."""
    return await service.count_documents(session, filters)


@router.post(
    "/clients/{client_id}/documents",
    response_model=DocumentRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422),
)
async def upload_document(
    session: Session, files: Files, client_id: UUID, file: Upload, meta: Annotated[DocumentForm, Form()]
) -> DocumentRead:
    """Create a document from a small file sent as multipart form data."""
    return await uploads.upload_new_document(session, files, client_id, meta, file)


@router.post(
    "/clients/{client_id}/documents/uploads",
    response_model=UploadTicket,
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422, 502, 503),
)
async def request_document_upload(
    session: Session, files: Files, client_id: UUID, data: NewDocumentUpload
) -> UploadTicket:
    """Get a signed URL to upload a new document's file straight to storage."""
    return await uploads.request_document_upload(session, files, client_id, data)


@router.post(
    "/documents/uploads/{upload_id}/confirm",
    response_model=DocumentRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422, 502, 503),
)
async def confirm_document_upload(session: Session, files: Files, upload_id: UUID) -> JSONBytes:
    """Check the uploaded file and record it as the document's new version."""
    return JSONBytes(await uploads.confirm_upload(session, files, upload_id), status_code=201)


@router.delete(
    "/documents/uploads/{upload_id}", status_code=204, response_class=Response, responses=responses(401, 404, 502, 503)
)
async def cancel_document_upload(session: Session, files: Files, upload_id: UUID) -> Response:
    """Abandon a pending upload and remove what it uploaded."""
    await uploads.cancel_upload(session, files, upload_id)
    return Response(status_code=204)


@router.get("/documents/{document_id}", response_model=DocumentRead, responses=responses(401, 404))
async def get_document(session: Session, document_id: UUID) -> DocumentRead:
    """Read a document with its current version."""
    return await service.load(session, document_id)


@router.patch("/documents/{document_id}", response_model=DocumentRead, responses=responses(401, 403, 404, 409, 422))
async def update_document(session: Session, document_id: UUID, data: DocumentUpdate) -> DocumentRead:
    """Change a document's title, tags, type, visibility, status, project or due date."""
    return await service.update_document(session, document_id, data)


@router.delete(
    "/documents/{document_id}", status_code=204, response_class=Response, responses=responses(401, 403, 404, 502, 503)
)
async def delete_document(session: OperatorSession, files: Files, document_id: UUID) -> Response:
    """Erase a document for good: every version's file and every row (operator)."""
    await service.delete_document(session, files, document_id)
    return Response(status_code=204)


@router.get("/documents/{document_id}/versions", response_model=list[VersionRead], responses=responses(401, 404))
async def list_document_versions(session: Session, document_id: UUID) -> list[VersionRead]:
    """List a document's versions, newest first."""
    return await service.list_versions(session, document_id)


@router.post(
    "/documents/{document_id}/versions",
    response_model=DocumentRead,
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422),
)
async def upload_document_version(session: Session, files: Files, document_id: UUID, file: Upload) -> DocumentRead:
    """Add a version from a small file sent as multipart form data."""
    return await uploads.upload_version(session, files, document_id, file)


@router.post(
    "/documents/{document_id}/uploads",
    response_model=UploadTicket,
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422, 502, 503),
)
async def request_version_upload(
    session: Session, files: Files, document_id: UUID, data: FileDeclaration
) -> UploadTicket:
    """Get a signed URL to upload a new version straight to storage."""
    return await uploads.request_version_upload(session, files, document_id, data)


@router.get(
    "/documents/{document_id}/download", response_model=DownloadLink, responses=responses(401, 404, 422, 502, 503)
)
async def get_download_link(
    session: Session,
    files: Files,
    document_id: UUID,
    version: int | None = Query(None, ge=1, description="Default: the current one"),
) -> DownloadLink:
    """Get a short-lived signed URL to download a version of the document."""
    return await service.download_link(session, files, document_id, version)


@router.post(
    "/documents/{document_id}/homework/complete", response_model=DocumentRead, responses=responses(401, 403, 404, 409)
)
async def complete_homework(session: Session, document_id: UUID) -> DocumentRead:
    """Mark homework as done."""
    return await service.complete_homework(session, document_id)


@router.post(
    "/documents/{document_id}/homework/reopen", response_model=DocumentRead, responses=responses(401, 403, 404, 409)
)
async def reopen_homework(session: Session, document_id: UUID) -> DocumentRead:
    """Mark homework as not done (clients only before the operator validates it)."""
    return await service.reopen_homework(session, document_id)


@router.post("/documents/{document_id}/archive", response_model=DocumentRead, responses=responses(401, 403, 404, 409))
async def archive_document(session: Session, document_id: UUID) -> DocumentRead:
    """Archive a document (restorable)."""
    return await service.archive_document(session, document_id)


@router.post("/documents/{document_id}/restore", response_model=DocumentRead, responses=responses(401, 403, 404, 409))
async def restore_document(session: Session, document_id: UUID) -> DocumentRead:
    """Restore an archived document."""
    return await service.restore_document(session, document_id)
