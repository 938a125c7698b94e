"""Signed links of the local storage backend, served by the API itself (embedded default).

The token in the query string is the credential (no bearer token), as with Supabase Storage's own
signed URLs; with Supabase Storage configured these routes answer 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from api.problems import responses
from services.documents import local_links
from services.documents.schemas import StoredObject

router = APIRouter(prefix="/storage", tags=["storage"])

Token = Query(None, max_length=4096, description="The signature the link was issued with")
# The file is meant to be saved, never rendered by the browser in our origin.
_DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@router.put(
    "/object/upload/sign/{bucket}/{path:path}",
    response_model=StoredObject,
    responses=responses(401, 403, 404, 409, 413),
)
async def upload_signed_object(request: Request, bucket: str, path: str, token: str | None = Token) -> StoredObject:
    """Receive the raw bytes of a signed upload (send the Content-Type you declared)."""
    return await local_links.receive(
        request.app.state.storage, bucket, path, token, request.stream(), request.headers.get("content-type")
    )


@router.get(
    "/object/sign/{bucket}/{path:path}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        **responses(401, 403, 404),
    },
)
async def download_signed_object(request: Request, bucket: str, path: str, token: str | None = Token) -> FileResponse:
    """Serve the file a signed download link points at, as an attachment."""
    found = await local_links.open_download(request.app.state.storage, bucket, path, token)
    media_type = "text/plain" if "html" in found.content_type else found.content_type
    return FileResponse(
        found.file,
        media_type=media_type,
        filename=found.download_name or found.file.name,
        content_disposition_type="attachment",
        headers=_DOWNLOAD_HEADERS,
    )
