"""Documents: reading, editing, homework, archive and erasure. Uploads are in uploads.py.

Who may do what: the operator everything. A member reads their clients' `shared` documents; edits
(title, tags, type other than homework), versions and archives the documents they added; completes
homework and adds versions to it; nothing on `lab` documents once their client is on One (Lab
history). RLS and the guards of migrations 0010-0011 (documents, versions, pending uploads) enforce the
same floor in SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from services.audit import service as audit
from services.clients import service as clients
from services.config import service as config
from services.core.db import AnySession, ServiceSession, UserSession
from services.core.errors import Unprocessable
from services.documents import repository
from services.documents.errors import (
    ClientArchived,
    DocumentArchived,
    DocumentForbidden,
    DocumentInvalid,
    DocumentNotArchived,
    DocumentNotFound,
    DocumentReadOnly,
    HomeworkConflict,
    VersionNotFound,
)
from services.documents.repository import Filters
from services.documents.schemas import (
    DocumentCounts,
    DocumentFields,
    DocumentRead,
    DocumentUpdate,
    DownloadLink,
    HomeworkCounts,
    HomeworkDue,
    TypeCounts,
    VersionRead,
)
from services.documents.storage import DocumentFiles

WITH_STATUS = ("livrable", "devoir")
MEMBER_EDITABLE = frozenset({"title", "tags", "document_type"})
MAX_VERSION = 2**31 - 1  # an int4 column: a larger number cannot exist


def is_operator(session: UserSession) -> bool:
    return session.principal.is_operator


async def load(session: UserSession, document_id: UUID, *, for_update: bool = False) -> DocumentRead:
    row = await repository.get(session, document_id, for_update=for_update)
    if row is None:
        raise DocumentNotFound()
    return DocumentRead(**dict(row))


async def _check_not_lab_history(session: UserSession, doc: DocumentRead) -> None:
    if is_operator(session) or doc.phase != "lab":
        return
    if (await config.get_config(session, doc.client_id)).dashboard_type == "one":
        raise DocumentReadOnly("Lab documents are read-only once you are on One (Lab history)")


def member_owns(doc: DocumentRead) -> bool:
    return doc.source == "client"


def member_may_add_version(doc: DocumentRead) -> bool:
    return doc.source == "client" or (doc.document_type == "devoir" and doc.status != "validated")


def _anyone(_: DocumentRead) -> bool:
    return True


async def writable(
    session: UserSession,
    document_id: UUID,
    member_may: Callable[[DocumentRead], bool] = _anyone,
    *,
    lock: bool = True,
) -> DocumentRead:
    """The document, locked unless `lock` is false, if the caller may change it: live, and for a member
    allowed and not Lab history."""
    doc = await load(session, document_id, for_update=lock)
    if doc.archived_at is not None:
        raise DocumentArchived("the document is archived: restore it first")
    if not is_operator(session):
        if not member_may(doc):
            raise DocumentForbidden("only the operator can change this document")
        await _check_not_lab_history(session, doc)
    return doc


async def new_document_values(
    session: UserSession, client_id: UUID, meta: DocumentFields, file_name: str
) -> dict[str, Any]:
    """A new document's columns after the permission and consistency checks."""
    client = await clients.require_client(session, client_id)
    if client.status == "archived":
        raise ClientArchived("the client is archived: restore it before adding documents")
    if is_operator(session):
        source = meta.source or "operator"
    else:
        for field, allowed in (
            ("visibility", meta.visibility == "shared"),
            ("source", meta.source in (None, "client")),
            ("document_type", meta.document_type != "devoir"),
            ("homework_due_at", meta.homework_due_at is None),
        ):
            if not allowed:
                raise DocumentForbidden(
                    f"only the operator can set {field} (homework is assigned by the"
                    " operator; client documents are shared, with source 'client')",
                    field=field,
                )
        source = "client"
    if meta.homework_due_at is not None and meta.document_type != "devoir":
        raise DocumentInvalid("a due date is for homework (document_type 'devoir') only", field="homework_due_at")
    phase = (await config.get_config(session, client_id)).dashboard_type
    return {
        "client_id": client_id,
        "project_id": meta.project_id,
        "title": (meta.title or file_name)[:200],
        "tags": meta.tags,
        "document_type": meta.document_type,
        "visibility": meta.visibility,
        "source": source,
        "status": "new" if meta.document_type in WITH_STATUS else None,
        "phase": phase,
        "homework_due_at": meta.homework_due_at,
        "created_by": session.principal.user_id,
    }


async def create_with_version(
    session: UserSession, document_id: UUID, values: dict[str, Any], version: dict[str, Any]
) -> DocumentRead:
    await repository.insert_document(session, {"id": document_id, **values})
    version_id = await repository.insert_version(
        session, {"document_id": document_id, "version": 1, "client_id": values["client_id"], **version}
    )
    await repository.update_document(session, document_id, {"current_version_id": version_id})
    doc = await load(session, document_id)
    await audit.record(
        session,
        action="document.created",
        entity_type="document",
        entity_id=document_id,
        client_id=doc.client_id,
        after=doc,
    )
    return doc


async def add_version(session: UserSession, before: DocumentRead, number: int, version: dict[str, Any]) -> DocumentRead:
    version_id = await repository.insert_version(
        session, {"document_id": before.id, "client_id": before.client_id, "version": number, **version}
    )
    current = before.current_version.version if before.current_version else 0
    if number > current:
        await repository.update_document(session, before.id, {"current_version_id": version_id})
    after = await load(session, before.id)
    await audit.record(
        session,
        action="document.version_added",
        entity_type="document",
        entity_id=before.id,
        client_id=before.client_id,
        before=before,
        after=after,
    )
    return after


# ---------------------------------------------------------------- reads


def _check_filters(filters: Filters) -> None:
    for field in ("q", "tag"):
        if "\x00" in (getattr(filters, field) or ""):
            raise Unprocessable(f"{field} cannot contain NUL characters", field=field)


async def list_documents_json(
    session: UserSession, filters: Filters, *, sort: str, cursor: str | None, limit: int
) -> bytes:
    """A Page[DocumentRead] as JSON bytes (rows rendered by Postgres; RLS hides what is not ours)."""
    _check_filters(filters)
    return await repository.list_page(session, filters, sort=sort, cursor=cursor, limit=limit)


async def count_documents(session: UserSession, filters: Filters) -> DocumentCounts:
    _check_filters(filters)
    row = await repository.counts(session, filters)
    return DocumentCounts(
        total=row["total"],
        by_type=TypeCounts(**{k: row[k] for k in TypeCounts.model_fields}),
        homework=HomeworkCounts(**{k: row[k] for k in HomeworkCounts.model_fields}),
    )


async def list_versions(session: UserSession, document_id: UUID) -> list[VersionRead]:
    await load(session, document_id)
    return [VersionRead(**dict(r)) for r in await repository.list_versions(session, document_id)]


async def download_link(
    session: UserSession, files: DocumentFiles, document_id: UUID, version: int | None
) -> DownloadLink:
    await load(session, document_id)
    row = None if (version or 0) > MAX_VERSION else await repository.get_version(session, document_id, version)
    if row is None:
        raise VersionNotFound(f"the document has no version {version}" if version else "the document has no file")
    signed = await files.storage.create_signed_download(
        row["storage_path"], expires_in=files.rules.link_ttl_seconds, download_name=row["file_name"]
    )
    return DownloadLink(
        url=signed.url,
        expires_at=signed.expires_at,
        version=row["version"],
        file_name=row["file_name"],
        mime_type=row["mime_type"],
        size_bytes=row["size_bytes"],
    )


# ---------------------------------------------------------------- changes


def _planned_changes(session: UserSession, before: DocumentRead, data: DocumentUpdate) -> dict[str, Any]:
    sent: dict[str, Any] = data.model_dump(exclude_unset=True)
    for field in ("title", "document_type", "visibility"):
        if field in sent and sent[field] is None:
            raise DocumentInvalid(f"{field} cannot be null", field=field)
    if sent.get("tags", []) is None:
        sent["tags"] = []
    changes = {k: v for k, v in sent.items() if getattr(before, k) != v}
    if not is_operator(session):
        for field in changes:
            if field not in MEMBER_EDITABLE or not member_owns(before):
                raise DocumentForbidden(f"only the operator can change {field} of this document", field=field)
        if "devoir" in (before.document_type, changes.get("document_type")) and "document_type" in changes:
            raise DocumentForbidden("homework is assigned by the operator", field="document_type")
    kind = changes.get("document_type", before.document_type)
    status = changes.get("status", before.status)
    if kind in WITH_STATUS:
        if "status" in sent and sent["status"] is None:
            raise DocumentInvalid(f"a {kind} always has a status ('new' or 'validated')", field="status")
        changes["status"] = status or "new"
    elif sent.get("status") is not None:
        raise DocumentInvalid("only deliverables and homework have a status", field="status")
    else:
        changes["status"] = None
    if kind != "devoir":
        if sent.get("homework_due_at") is not None:
            raise DocumentInvalid("a due date is for homework (document_type 'devoir') only", field="homework_due_at")
        changes.update(homework_due_at=None, homework_completed=False, homework_completed_at=None)
    if (
        kind == "devoir"
        and changes["status"] == "validated"
        and before.status != "validated"
        and not (before.homework_completed and before.document_type == "devoir")
    ):
        raise HomeworkConflict("homework is validated once the client has completed it", field="status")
    changes = {k: v for k, v in changes.items() if getattr(before, k) != v}
    if (
        not is_operator(session)
        and "validated" in (before.status, changes.get("status", before.status))
        and "status" in changes
    ):
        raise DocumentForbidden("a validated document keeps its type: ask the operator", field="document_type")
    return changes


async def update_document(session: UserSession, document_id: UUID, data: DocumentUpdate) -> DocumentRead:
    before = await writable(session, document_id)
    changes = _planned_changes(session, before, data)
    if not changes:
        return before
    await repository.update_document(session, document_id, changes)
    after = await load(session, document_id)
    await audit.record(
        session,
        action="document.updated",
        entity_type="document",
        entity_id=document_id,
        client_id=before.client_id,
        before=before,
        after=after,
    )
    return after


async def _set(session: UserSession, before: DocumentRead, action: str, values: dict[str, Any]) -> DocumentRead:
    await repository.update_document(session, before.id, values)
    after = await load(session, before.id)
    await audit.record(
        session,
        action=action,
        entity_type="document",
        entity_id=before.id,
        client_id=before.client_id,
        before=before,
        after=after,
    )
    return after


async def complete_homework(session: UserSession, document_id: UUID) -> DocumentRead:
    doc = await writable(session, document_id)
    if doc.document_type != "devoir":
        raise HomeworkConflict("only homework (document_type 'devoir') can be completed")
    if doc.homework_completed:
        raise HomeworkConflict("the homework is already completed")
    return await _set(
        session,
        doc,
        "document.homework_completed",
        {"homework_completed": True, "homework_completed_at": datetime.now(UTC)},
    )


async def reopen_homework(session: UserSession, document_id: UUID) -> DocumentRead:
    doc = await writable(session, document_id)
    if doc.document_type != "devoir" or not doc.homework_completed:
        raise HomeworkConflict("only completed homework can be reopened")
    values: dict[str, Any] = {"homework_completed": False, "homework_completed_at": None}
    if doc.status == "validated":
        if not is_operator(session):
            raise HomeworkConflict("the homework has been validated: it can no longer be reopened")
        values["status"] = "new"
    return await _set(session, doc, "document.homework_reopened", values)


async def archive_document(session: UserSession, document_id: UUID) -> DocumentRead:
    doc = await load(session, document_id, for_update=True)
    if doc.archived_at is not None:
        raise DocumentArchived("the document is already archived")
    if not is_operator(session):
        if not member_owns(doc):
            raise DocumentForbidden("only the operator can archive this document")
        await _check_not_lab_history(session, doc)
    return await _set(session, doc, "document.archived", {"archived_at": datetime.now(UTC)})


async def restore_document(session: UserSession, document_id: UUID) -> DocumentRead:
    doc = await load(session, document_id, for_update=True)
    if doc.archived_at is None:
        raise DocumentNotArchived("only an archived document can be restored")
    if not is_operator(session):
        if not member_owns(doc):
            raise DocumentForbidden("only the operator can restore this document")
        await _check_not_lab_history(session, doc)
    return await _set(session, doc, "document.restored", {"archived_at": None})


async def delete_document(session: UserSession, files: DocumentFiles, document_id: UUID) -> None:
    """Erase the document, every version and every pending upload, rows and objects (RGPD)."""
    await repository.lock_uploads_of(session, document_id)
    doc = await load(session, document_id, for_update=True)
    versions = await list_versions(session, document_id)
    paths = await repository.storage_paths(session, document_id)
    await repository.delete_uploads_of(session, document_id)
    await repository.delete_document(session, document_id)
    snapshot = {**doc.model_dump(mode="json"), "versions": [v.model_dump(mode="json") for v in versions]}
    await audit.record(
        session,
        action="document.deleted",
        entity_type="document",
        entity_id=document_id,
        client_id=doc.client_id,
        before=snapshot,
    )
    # Objects go last: if storage fails, the transaction rolls back and nothing is half-erased.
    if paths:
        await files.storage.delete(paths)


# ---------------------------------------------------------------- meeting recordings


async def file_meeting_recording(
    session: AnySession, document_id: UUID, values: dict[str, Any], version: dict[str, Any]
) -> DocumentRead:
    """A meeting's recording, already stored at `version["storage_path"]` by the recorder, as an
    internal document of source `meeting` (the meetings module's queue job, under the service
    session). Idempotent on `document_id`: a second call returns the document the first created."""
    existing = await repository.get(session, document_id)
    if existing is None:
        values = {**values, "document_type": "ressource", "visibility": "internal", "source": "meeting"}
        await repository.insert_document(session, {"id": document_id, **values})
        version_id = await repository.insert_version(
            session, {"document_id": document_id, "version": 1, "client_id": values["client_id"], **version}
        )
        await repository.update_document(session, document_id, {"current_version_id": version_id})
        existing = await repository.get(session, document_id)
        assert existing is not None  # inserted just above, in this transaction
        doc = DocumentRead(**dict(existing))
        await audit.record(
            session,
            action="document.created",
            entity_type="document",
            entity_id=document_id,
            client_id=doc.client_id,
            after=doc,
        )
        return doc
    return DocumentRead(**dict(existing))


async def create_homework(
    session: UserSession, client_id: UUID, title: str, *, project_id: UUID | None, due_at: datetime | None, source: str
) -> DocumentRead:
    """Homework the operator assigns without a file (e.g. from a meeting's action item): the client
    hands it in as a version. Same checks as any new document."""
    meta = DocumentFields.model_validate(
        {"title": title[:200], "document_type": "devoir", "source": source, "project_id": project_id,
         "homework_due_at": due_at}
    )  # fmt: skip
    values = await new_document_values(session, client_id, meta, title[:200])
    document_id = uuid4()
    await repository.insert_document(session, {"id": document_id, **values})
    doc = await load(session, document_id)
    await audit.record(
        session, action="document.created", entity_type="document", entity_id=document_id, client_id=client_id,
        after=doc,
    )  # fmt: skip
    return doc


async def homework_due_between(
    session: ServiceSession, start: datetime, end: datetime, *, batch: int = 500
) -> list[HomeworkDue]:
    """Open, shared, unarchived homework due in (start, end], soonest first (the reminders engine's
    "homework due soon"; a service read across clients)."""
    found: list[HomeworkDue] = []
    after: tuple[datetime, UUID] | None = None
    while True:
        rows = await repository.homework_due_between(session, start, end, after=after, limit=batch)
        found.extend(HomeworkDue(**dict(row)) for row in rows)
        if len(rows) < batch:
            return found
        after = (rows[-1]["homework_due_at"], rows[-1]["id"])
