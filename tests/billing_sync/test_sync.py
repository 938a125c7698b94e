"""The Pennylane changelog sync against the real database and Pennylane's recorded shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import respx

from integrations.pennylane.changelogs import Fetched, PennylaneChangelogs, SyncedResource
from services.billing.sync.loop import PennylaneSync
from services.billing.sync.mirror import CoreMirror
from services.core.db import ServiceSession
from tests.billing_sync.conftest import (
    CUSTOMER_ID,
    NOW,
    add_invoice,
    entry,
    invoice,
    link_customer,
    mock_lines,
    page,
    recorded,
    set_cursor,
)
from tests.conftest import Tenant
from tests.integrations.fake_clock import Sleeper

A, B, C, D = 25461646082048, 25461862449152, 25465638002688, 25465737265152
START = datetime(2026, 7, 8, tzinfo=UTC)
LAST = "2026-07-08T12:40:01.123456Z"
THROTTLED = httpx.Response(429, text="Rate limit exceeded. Please retry in 2 seconds.", headers={"retry-after": "2"})


def three_pages(router: respx.MockRouter) -> respx.Route:
    """The recorded page (A and B inserted and updated), then A updated, C inserted and B deleted
    (behind a 429), then D, a draft credit note."""
    first = recorded("pennylane_changelog_customer_invoices")
    second = page(
        [entry(A, "update", "2026-07-08T12:10:00.000001Z"), entry(C, "insert", "2026-07-08T12:20:00Z"),
         entry(B, "delete", "2026-07-08T12:30:00Z")],
        "c2",
    )  # fmt: skip
    third = page([entry(D, "insert", LAST)])
    return router.get("/changelogs/customer_invoices").mock(
        side_effect=[httpx.Response(200, json=first), THROTTLED, httpx.Response(200, json=second),
                     httpx.Response(200, json=third)]
    )  # fmt: skip


def refetches(router: respx.MockRouter) -> None:
    mock_lines(router)
    draft = recorded("pennylane_customer_invoice_get_draft")  # id A
    router.get(f"/customer_invoices/{A}").mock(return_value=httpx.Response(200, json=draft | {"status": "upcoming"}))
    router.get(f"/customer_invoices/{C}").mock(return_value=httpx.Response(200, json=invoice(C)))
    # B is re-fetched for the first page, after Pennylane deleted it: a 404 is a deletion too.
    gone = recorded("pennylane_error_404") | {"error": "Customer invoice not found"}
    router.get(f"/customer_invoices/{B}").mock(return_value=httpx.Response(404, json=gone))
    credit = invoice(
        D, status="credit_note", draft=True, invoice_number="", amount="-120.0", currency_amount="-120.0",
        tax="-20.0", currency_tax="-20.0", currency_amount_before_tax="-100.0", remaining_amount_with_tax=None,
    )  # fmt: skip
    router.get(f"/customer_invoices/{D}").mock(return_value=httpx.Response(200, json=credit))


async def mirrored(sql: asyncpg.Connection) -> dict[int, Any]:
    rows = await sql.fetch("select * from billing_invoices where pennylane_id is not null")
    return {row["pennylane_id"]: row for row in rows}


async def test_the_sync_walks_every_page_applies_deletions_and_waits_out_a_429(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs, sleeper: Sleeper,
) -> None:  # fmt: skip
    await link_customer(sql, tenant_a.id)
    await add_invoice(sql, tenant_a.id, pennylane_id=B, invoice_number="", status="draft", draft=True)
    await set_cursor(sql, "customer_invoices", START)
    changes = three_pages(pennylane_http)
    refetches(pennylane_http)

    run = await PennylaneSync(app.state.job_context.db, changelogs, CoreMirror()).run(["customer_invoices"])

    assert run.ok and run.resources[0].changes == 9 and run.resources[0].batches == 3
    assert changes.calls[0].request.url.params["start_date"] == "2026-07-08T00:00:00Z"
    assert [c.request.url.params.get("cursor") for c in changes.calls[1:]] == [
        "MjAyNi0wNy0wOFQxMjowNjo0NC44ODM1NzZa"
    ] * 2 + ["c2"]
    assert sleeper.sleeps == [2.0]  # the 429's retry-after, then the same page again
    rows = await mirrored(sql)
    assert rows[A]["status"] == "upcoming" and rows[A]["client_id"] == tenant_a.id and rows[A]["kind"] == "invoice"
    assert rows[C]["invoice_number"] == "TEST-001" and rows[C]["remaining_amount"] == 600
    assert rows[B]["deleted_at"] is not None  # deleted in Pennylane: kept, marked
    credit = rows[D]  # a draft credit note keeps its kind: never lost in a draft filter
    assert (credit["kind"], credit["status"], credit["draft"], credit["amount"]) == (
        "credit_note",
        "credit_note",
        True,
        -120,
    )
    state = await sql.fetchrow("select * from billing_sync_state where resource = 'customer_invoices'")
    assert state["cursor_at"] == datetime.fromisoformat(LAST) and state["cursor_ids"] == [D]
    assert (state["last_mode"], state["last_changes"], state["last_error"]) == ("incremental", 9, None)


async def test_a_quiet_run_costs_one_call_per_changelog_and_skips_the_boundary_entry(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs,
) -> None:  # fmt: skip
    at = datetime.fromisoformat(LAST)
    for resource in ("customers", "products", "quotes"):
        await set_cursor(sql, resource, at)
        pennylane_http.get(f"/changelogs/{resource}").mock(return_value=httpx.Response(200, json=page([])))
    await set_cursor(sql, "customer_invoices", at, [D])
    # Pennylane's start_date is inclusive: the change applied last time comes back, and is not re-fetched.
    pennylane_http.get("/changelogs/customer_invoices").mock(
        return_value=httpx.Response(200, json=page([entry(D, "insert", LAST)]))
    )
    run = await PennylaneSync(app.state.job_context.db, changelogs, CoreMirror()).run()
    assert run.ok and [r.changes for r in run.resources] == [0, 0, 0, 0]
    assert len(pennylane_http.calls) == 4
    assert await sql.fetchval("select count(*) from billing_sync_state where last_success_at is not null") == 4


class CrashingMirror(CoreMirror):
    """Writes the batch, then the process dies before the commit (fault injection, not a mock)."""

    async def upsert(self, session: ServiceSession, resource: SyncedResource, items: Sequence[Fetched]) -> int:
        await super().upsert(session, resource, items)
        raise KeyboardInterrupt("worker killed between fetch and commit")


async def test_a_crash_before_the_commit_moves_no_cursor_and_loses_nothing(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs,
) -> None:  # fmt: skip
    await link_customer(sql, tenant_a.id)
    await set_cursor(sql, "customer_invoices", START)
    changes = pennylane_http.get("/changelogs/customer_invoices").mock(
        return_value=httpx.Response(200, json=page([entry(C, "insert", "2026-07-08T12:20:00Z")]))
    )
    fetch = pennylane_http.get(f"/customer_invoices/{C}").mock(return_value=httpx.Response(200, json=invoice(C)))
    mock_lines(pennylane_http)
    db = app.state.job_context.db
    with pytest.raises(KeyboardInterrupt):
        await PennylaneSync(db, changelogs, CrashingMirror()).run(["customer_invoices"])
    assert await sql.fetchval("select count(*) from billing_invoices") == 0
    assert await sql.fetchval("select cursor_at from billing_sync_state") == START

    run = await PennylaneSync(db, changelogs, CoreMirror()).run(["customer_invoices"])  # the next run
    assert run.ok and changes.call_count == 2 and fetch.call_count == 2
    assert (await mirrored(sql))[C]["client_id"] == tenant_a.id
    assert await sql.fetchval("select cursor_at from billing_sync_state") == datetime(2026, 7, 8, 12, 20, tzinfo=UTC)


async def test_a_failed_fetch_keeps_committed_pages_and_records_the_error(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs,
) -> None:  # fmt: skip
    await link_customer(sql, tenant_a.id)
    await set_cursor(sql, "customer_invoices", START)
    pennylane_http.get("/changelogs/customer_invoices").mock(
        side_effect=[
            httpx.Response(200, json=page([entry(C, "insert", "2026-07-08T12:20:00Z")], "p2")),
            httpx.Response(200, json=page([entry(A, "insert", "2026-07-08T12:30:00Z")])),
        ]
    )
    pennylane_http.get(f"/customer_invoices/{C}").mock(return_value=httpx.Response(200, json=invoice(C)))
    pennylane_http.get(f"/customer_invoices/{A}").mock(return_value=httpx.Response(500, json={"error": "boom"}))
    mock_lines(pennylane_http)
    run = await PennylaneSync(app.state.job_context.db, changelogs, CoreMirror()).run(["customer_invoices"])
    assert not run.ok
    state = await sql.fetchrow("select * from billing_sync_state")
    assert state["cursor_at"] == datetime(2026, 7, 8, 12, 20, tzinfo=UTC)  # the first page stays applied
    assert "HTTP 500" in state["last_error"] and set(await mirrored(sql)) == {C}


async def test_a_cursor_older_than_the_window_falls_back_to_a_full_listing(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs,
) -> None:  # fmt: skip
    await link_customer(sql, tenant_a.id)
    gone = await add_invoice(sql, tenant_a.id, pennylane_id=B)
    await set_cursor(sql, "customer_invoices", NOW - timedelta(weeks=5))
    listing = pennylane_http.get("/customer_invoices").mock(
        side_effect=[
            httpx.Response(200, json=page([invoice(C)], "l2")),
            httpx.Response(200, json=page([invoice(A, customer={"id": 999, "url": "x"})])),  # not a Foxeo client
        ]
    )
    run = await PennylaneSync(app.state.job_context.db, changelogs, CoreMirror()).run(["customer_invoices"])
    assert run.ok and run.resources[0].mode == "full" and listing.call_count == 2
    assert listing.calls[1].request.url.params["cursor"] == "l2"
    rows = await mirrored(sql)
    assert set(rows) == {B, C} and rows[B]["id"] == gone and rows[B]["deleted_at"] is not None
    state = await sql.fetchrow("select * from billing_sync_state")
    assert state["cursor_at"] == NOW - timedelta(minutes=1) and state["last_mode"] == "full"


async def test_customers_quotes_and_products_land_in_their_mirrors(
    app: Any, sql: asyncpg.Connection, tenant_a: Tenant, pennylane_http: respx.MockRouter,
    changelogs: PennylaneChangelogs,
) -> None:  # fmt: skip
    await link_customer(sql, tenant_a.id)
    for resource in ("customers", "products", "quotes"):
        await set_cursor(sql, resource, START)
    customer = recorded("pennylane_company_customer_create") | {"id": CUSTOMER_ID, "emails": ["compta@acme.test"]}
    product = recorded("pennylane_product_get")
    quote = recorded("pennylane_quote_create")
    quote["customer"] = {"id": CUSTOMER_ID, "url": "x"}
    for resource, item in (("customers", customer), ("products", product), ("quotes", quote)):
        pennylane_http.get(f"/changelogs/{resource}").mock(
            return_value=httpx.Response(200, json=page([entry(item["id"], "update", "2026-07-08T12:00:00Z")]))
        )
        pennylane_http.get(f"/{resource}/{item['id']}").mock(return_value=httpx.Response(200, json=item))
    mock_lines(pennylane_http)
    run = await PennylaneSync(app.state.job_context.db, changelogs, CoreMirror()).run(
        ["customers", "products", "quotes"]
    )
    assert run.ok
    linked = await sql.fetchrow("select * from billing_customers where client_id = $1", tenant_a.id)
    assert linked["legal_name"] == customer["name"] and linked["emails"] == ["compta@acme.test"]
    assert (
        await sql.fetchval("select label from billing_products where pennylane_id = $1", product["id"])
        == product["label"]
    )
    mirrored_quote = await sql.fetchrow("select * from billing_quotes where pennylane_id = $1", quote["id"])
    assert mirrored_quote["client_id"] == tenant_a.id and mirrored_quote["status"] == quote["status"]
