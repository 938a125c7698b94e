"""A client's billing identity and the Pennylane customer it maps to: set by the operator, pushed by a job,
created or matched (by SIREN/SIRET, then e-mail) on the first billing action that needs it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from integrations.pennylane import Address as PennylaneAddress
from integrations.pennylane import (
    CompanyCustomerCreate,
    CompanyCustomerUpdate,
    Customer,
    Filter,
    IndividualCustomerCreate,
    IndividualCustomerUpdate,
    PennylaneClient,
)
from services.audit import service as audit
from services.billing import repository
from services.billing.errors import CustomerNotFound
from services.billing.schemas import CustomerRead, CustomerWrite
from services.clients import service as clients
from services.core import queue
from services.core.db import Database, UserSession
from services.core.settings import Settings

PUSH_CUSTOMER_JOB = "billing.push_customer"


def customer_read(row: asyncpg.Record) -> CustomerRead:
    return CustomerRead(**dict(row))


async def get_customer(session: UserSession, client_id: UUID) -> CustomerRead:
    """The client's billing identity (the operator, or the client's own members)."""
    row = await repository.get(session, "billing_customers", client_id)
    if row is None:
        await clients.require_client(session, client_id)  # another client's member: 404 on the client
        raise CustomerNotFound()
    return customer_read(row)


async def set_customer(session: UserSession, settings: Settings, client_id: UUID, data: CustomerWrite) -> CustomerRead:
    """Create or replace the identity; a linked Pennylane customer is updated by a job."""
    await clients.require_client(session, client_id)
    before = await repository.get(session, "billing_customers", client_id, lock=True)
    values: dict[str, Any] = data.model_dump(mode="json")
    values["client_id"] = client_id
    if before is not None and before["pennylane_id"] is not None and settings.pennylane_api_token:
        values.update(push_state="pending", push_error=None)
    after = customer_read(await repository.upsert_row(session, "billing_customers", "client_id", values))
    if after.push_state == "pending":
        await queue.enqueue(session, PUSH_CUSTOMER_JOB, {"client_id": str(client_id)}, client_id=client_id)
    await audit.record(
        session, action="billing.customer_set", entity_type="billing_customer", entity_id=client_id,
        client_id=client_id, before=None if before is None else customer_read(before), after=after,
    )  # fmt: skip
    return after


# ---------------------------------------------------------------- the jobs' side


def _address(value: dict[str, str] | None) -> PennylaneAddress | None:
    return None if value is None else PennylaneAddress(**value)


def _present(**values: Any) -> dict[str, Any]:
    """Only the values we have: an explicit null would clear the field in Pennylane."""
    return {name: value for name, value in values.items() if value is not None}


def _fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "billing_address": _address(row["billing_address"]),
        # An empty address tells Pennylane deliveries go to the billing address.
        "delivery_address": _address(row["delivery_address"]) or PennylaneAddress(),
        "emails": list(row["emails"]),
        "payment_conditions": row["payment_conditions"],
        "external_reference": f"foxeo:{row['client_id']}",
    }


async def _match(pennylane: PennylaneClient, row: asyncpg.Record) -> Customer | None:
    """An existing Pennylane customer for this identity: same SIRET or SIREN, else same e-mail."""
    for reg_no in (row["siret"], row["siren"]):
        if reg_no:
            page = await pennylane.list_customers([Filter("reg_no", "eq", reg_no)], limit=1)
            if page.items:
                return page.items[0]
    if row["emails"]:
        page = await pennylane.list_customers([Filter("emails", "in", list(row["emails"]))], limit=1)
        if page.items:
            return page.items[0]
    return None


async def _create(pennylane: PennylaneClient, row: asyncpg.Record) -> Customer:
    if row["kind"] == "company":
        return await pennylane.create_company_customer(
            CompanyCustomerCreate(
                name=row["legal_name"], **_present(vat_number=row["vat_number"], reg_no=row["siret"] or row["siren"]),
                **_fields(row),
            )
        )  # fmt: skip
    return await pennylane.create_individual_customer(
        IndividualCustomerCreate(first_name=row["first_name"], last_name=row["last_name"], **_fields(row))
    )


async def _store(db: Database, client_id: UUID, customer: Customer) -> None:
    async with db.service_session() as session:
        await repository.update_row(
            session, "billing_customers", client_id,
            {"pennylane_id": customer.id, "pennylane_updated_at": customer.updated_at, "push_state": "done",
             "push_error": None},
        )  # fmt: skip
        await audit.record(
            session, action="billing.customer_linked", entity_type="billing_customer", entity_id=client_id,
            client_id=client_id, after={"pennylane_id": customer.id},
        )  # fmt: skip


async def ensure_linked(db: Database, pennylane: PennylaneClient, client_id: UUID) -> int:
    """The client's Pennylane customer id, matching or creating the customer the first time (the link
    commits before the caller goes on, so a retried job never creates it twice)."""
    async with db.service_session() as session:
        row = await repository.get(session, "billing_customers", client_id)
    if row is None:
        raise CustomerNotFound()
    if row["pennylane_id"] is not None:
        pennylane_id: int = row["pennylane_id"]
        return pennylane_id
    customer = await _match(pennylane, row) or await _create(pennylane, row)
    await _store(db, client_id, customer)
    return customer.id


async def push(db: Database, pennylane: PennylaneClient, client_id: UUID) -> None:
    """Send the identity to its Pennylane customer (link it first if it has none)."""
    async with db.service_session() as session:
        row = await repository.get(session, "billing_customers", client_id)
    if row is None:
        return  # the client is gone
    if row["pennylane_id"] is None:
        await ensure_linked(db, pennylane, client_id)
        return
    if row["kind"] == "company":
        update = CompanyCustomerUpdate(
            name=row["legal_name"],
            **_present(vat_number=row["vat_number"], reg_no=row["siret"] or row["siren"]),
            **_fields(row),
        )
        customer = await pennylane.update_company_customer(row["pennylane_id"], update)
    else:
        individual = IndividualCustomerUpdate(first_name=row["first_name"], last_name=row["last_name"], **_fields(row))
        customer = await pennylane.update_individual_customer(row["pennylane_id"], individual)
    await _store(db, client_id, customer)
