"""Monthly retainers as Pennylane billing subscriptions: created, paused and cancelled through jobs;
the invoices Pennylane generates come back through the sync, linked by the subscription's id."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from services.audit import service as audit
from services.billing import einvoicing, quotes, repository
from services.billing.errors import BillingStateConflict, SubscriptionNotFound
from services.billing.schemas import SubscriptionCreate, SubscriptionRead
from services.clients import service as clients
from services.core import queue
from services.core.db import UserSession
from services.core.pagination import Page, next_page
from services.core.settings import Settings

CREATE_SUBSCRIPTION_JOB = "billing.create_subscription"
UPDATE_SUBSCRIPTION_JOB = "billing.update_subscription"
ENDED = ("cancelled", "stopped", "finished")


async def load(session: UserSession, subscription_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    row = await repository.get(session, "billing_subscriptions", subscription_id, lock=lock)
    if row is None:
        raise SubscriptionNotFound()
    return row


async def _audited(
    session: UserSession, action: str, row: asyncpg.Record, before: asyncpg.Record | None = None
) -> SubscriptionRead:
    after = SubscriptionRead(**dict(row))
    await audit.record(
        session, action=f"billing.{action}", entity_type="billing_subscription", entity_id=row["id"],
        client_id=row["client_id"], before=None if before is None else SubscriptionRead(**dict(before)), after=after,
    )  # fmt: skip
    return after


async def create_subscription(session: UserSession, settings: Settings, data: SubscriptionCreate) -> SubscriptionRead:
    quotes.require_pennylane(settings)
    client = await clients.require_client(session, data.client_id)
    einvoicing.check(await repository.get(session, "billing_customers", client.id), data.operation_nature)
    values = data.model_dump()
    row = await repository.insert_row(
        session, "billing_subscriptions",
        {**values, "push_state": "pending", "created_by": session.principal.user_id},
    )  # fmt: skip
    await queue.enqueue(
        session, CREATE_SUBSCRIPTION_JOB, {"subscription_id": str(row["id"])},
        idempotency_key=f"{CREATE_SUBSCRIPTION_JOB}:{row['id']}", client_id=client.id,
    )  # fmt: skip
    return await _audited(session, "subscription_created", row)


async def change_subscription(
    session: UserSession, settings: Settings, subscription_id: UUID, target: str
) -> SubscriptionRead:
    """Pause, resume or cancel; a job tells Pennylane (a cancelled subscription stays cancelled)."""
    quotes.require_pennylane(settings)
    before = await load(session, subscription_id, lock=True)
    if before["status"] in ENDED:
        raise BillingStateConflict(f"this subscription is {before['status']}")
    if target == "paused" and before["status"] == "paused":
        raise BillingStateConflict("this subscription is already paused")
    if target == "resumed" and before["status"] != "paused":
        raise BillingStateConflict("only a paused subscription can be resumed")
    values: dict[str, object] = {"push_state": "pending", "push_error": None}
    if target == "paused":
        values.update(status="paused", paused_at=datetime.now(UTC))
    elif target == "cancelled":
        values.update(status="cancelled", cancelled_at=datetime.now(UTC))
    else:
        values.update(status="in_progress", paused_at=None)
    row = await repository.update_row(session, "billing_subscriptions", subscription_id, values)
    assert row is not None
    await queue.enqueue(
        session, UPDATE_SUBSCRIPTION_JOB, {"subscription_id": str(subscription_id)}, client_id=before["client_id"]
    )
    return await _audited(session, f"subscription_{target}", row, before)


async def list_subscriptions(
    session: UserSession, client_id: UUID | None, cursor: str | None, limit: int
) -> Page[SubscriptionRead]:
    if client_id is not None:
        await clients.require_client(session, client_id)
    rows = await repository.list_rows(
        session, "billing_subscriptions", repository.SUBSCRIPTION_KEYSET, cursor=cursor, limit=limit,
        client_id=client_id,
    )  # fmt: skip
    page, next_cursor = next_page(rows, limit, lambda row: [row["created_at"], row["id"]])
    return Page[SubscriptionRead](items=[SubscriptionRead(**dict(r)) for r in page], next_cursor=next_cursor)


async def get_subscription(session: UserSession, subscription_id: UUID) -> SubscriptionRead:
    return SubscriptionRead(**dict(await load(session, subscription_id)))
