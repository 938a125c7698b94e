"""Clients and their CRM profile: the operator manages them; a member reads their own client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.audit import service as audit
from services.clients import repository
from services.clients.errors import (
    ClientAlreadyArchived,
    ClientNotArchived,
    ClientNotFound,
    ClientStatusChangeRefused,
)
from services.clients.schemas import ClientCreate, ClientDetail, ClientRead, ClientUpdate, CrmProfile
from services.config import service as config
from services.core.db import AnySession, UserSession


async def list_clients_json(
    session: UserSession,
    *,
    status: str | None,
    temperature: str | None,
    tag: str | None,
    q: str | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> bytes:
    """A Page[ClientRead] as JSON bytes (rows rendered by Postgres)."""
    return await repository.list_page(
        session, status=status, temperature=temperature, tag=tag.strip().lower() if tag else None, q=q, sort=sort,
        cursor=cursor, limit=limit,
    )  # fmt: skip


async def get_client_json(session: UserSession, client_id: UUID) -> bytes:
    """A ClientDetail as JSON bytes; RLS decides whether the caller may see it."""
    value = await repository.detail_json(session, client_id)
    if value is None:
        raise ClientNotFound()
    return value.encode()


async def get_client(session: AnySession, client_id: UUID, *, for_update: bool = False) -> ClientDetail:
    row = await (repository.get_for_update if for_update else repository.get)(session, client_id)
    if row is None:
        raise ClientNotFound()
    crm = await repository.get_crm(session, client_id)
    return ClientDetail(**dict(row), crm=CrmProfile(**dict(crm)) if crm else None)


async def require_client(session: AnySession, client_id: UUID, *, for_update: bool = False) -> ClientRead:
    """The client if the caller can see it (404 otherwise): what other modules call."""
    row = await (repository.get_for_update if for_update else repository.get)(session, client_id)
    if row is None:
        raise ClientNotFound()
    return ClientRead(**dict(row))


async def find_client_by_company_and_tag(session: UserSession, company_name: str, tag: str) -> UUID | None:
    """The id of a visible client with this exact company name carrying `tag` (the demo seed's marker)."""
    return await repository.find_by_company_and_tag(session, company_name, tag)


async def find_by_email(session: AnySession, email: str) -> ClientRead | None:
    """The oldest client whose contact e-mail is `email` (case-insensitive): who booked is found again."""
    row = await repository.find_by_email(session, email)
    return None if row is None else ClientRead(**dict(row))


async def create_client(session: AnySession, data: ClientCreate) -> ClientDetail:
    values = data.model_dump(exclude={"crm"})
    row = await repository.insert_client(session, values)
    client = ClientRead(**dict(row))
    crm = None
    if data.crm is not None:
        crm = CrmProfile(**dict(await repository.upsert_crm(session, client.id, data.crm.model_dump())))
    await config.create_default_config(session, client.id, "one" if client.status == "one" else "lab")
    detail = ClientDetail(**client.model_dump(), crm=crm)
    await audit.record(
        session, action="client.created", entity_type="client", entity_id=client.id, client_id=client.id, after=detail
    )
    return detail


async def update_client(
    session: AnySession, client_id: UUID, data: ClientUpdate, *, lifecycle: bool = False
) -> ClientDetail:
    """`lifecycle=True` is for the lifecycle service only, which switches dashboard, modules and Élio
    in the same transaction as a Lab ↔ One status change."""
    before = await get_client(session, client_id, for_update=True)  # the audited "before" stays true
    if before.status == "archived":
        raise ClientAlreadyArchived("restore the client before editing it")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"crm"})
    new_status = changes.get("status", before.status)
    if not lifecycle and new_status != before.status and "one" in (new_status, before.status):
        # Lab ↔ One also switches dashboard, modules and Élio: only the lifecycle endpoints do it whole.
        raise ClientStatusChangeRefused(
            f"{before.status} → {new_status} is a graduation or a Lab reactivation: use"
            f" POST /api/v1/clients/{client_id}/graduate or /reactivate-lab"
        )
    row = await repository.update_client(session, client_id, changes) if changes else None
    crm = before.crm
    if "crm" in data.model_fields_set:
        crm_changes = data.crm.model_dump(exclude_unset=True) if data.crm else dict.fromkeys(repository.CRM_COLUMNS)
        crm = CrmProfile(**dict(await repository.upsert_crm(session, client_id, crm_changes)))
    after = ClientDetail(**(dict(row) if row else before.model_dump(exclude={"crm"})), crm=crm)
    await audit.record(
        session,
        action="client.updated",
        entity_type="client",
        entity_id=client_id,
        client_id=client_id,
        before=before,
        after=after,
    )
    return after


async def archive_client(session: UserSession, client_id: UUID) -> ClientRead:
    before = await require_client(session, client_id, for_update=True)
    if before.status == "archived":
        raise ClientAlreadyArchived("the client is already archived")
    row = await repository.update_client(
        session,
        client_id,
        {"status": "archived", "status_before_archive": before.status, "archived_at": datetime.now(UTC)},
    )
    after = ClientRead(**dict(row))
    await audit.record(
        session,
        action="client.archived",
        entity_type="client",
        entity_id=client_id,
        client_id=client_id,
        before=before,
        after=after,
    )
    return after


async def restore_client(session: UserSession, client_id: UUID) -> ClientRead:
    before = await require_client(session, client_id, for_update=True)
    if before.status != "archived":
        raise ClientNotArchived("only an archived client can be restored")
    previous = await repository.status_before_archive(session, client_id)
    row = await repository.update_client(
        session, client_id, {"status": previous or "prospect", "status_before_archive": None, "archived_at": None}
    )
    after = ClientRead(**dict(row))
    await audit.record(
        session,
        action="client.restored",
        entity_type="client",
        entity_id=client_id,
        client_id=client_id,
        before=before,
        after=after,
    )
    return after
