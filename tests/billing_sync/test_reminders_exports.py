"""Payment reminders on the configured cadence (each step once) and the FEC export job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import respx
from pydantic import SecretStr

from services.billing.payment_reminders import cadence, send_due, step_due
from services.core.jobs import registered_handlers
from services.core.settings import Settings
from services.core.worker import Worker
from tests.billing_sync.conftest import BASE, FIXTURES, add_invoice, link_customer
from tests.conftest import Tenant, User

DUE = date(2026, 7, 31)


def test_the_latest_step_whose_day_has_come() -> None:
    steps = cadence(Settings(BILLING_REMINDER_DAYS_BEFORE=[3], BILLING_REMINDER_DAYS_AFTER=[1, 7, 15]))
    assert [name for name, _ in steps] == ["before:3", "after:1", "after:7", "after:15"]
    assert step_due(steps, DUE, date(2026, 7, 27)) is None
    assert step_due(steps, DUE, date(2026, 7, 28)) == "before:3"
    assert step_due(steps, DUE, DUE) is None  # the before step lapses on the due date
    assert step_due(steps, DUE, date(2026, 8, 1)) == "after:1"
    assert step_due(steps, DUE, date(2026, 8, 20)) == "after:15"  # not the 1- and 7-day ones as well


async def test_each_reminder_step_is_sent_once(
    app: Any, sql: asyncpg.Connection, settings: Settings, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await link_customer(sql, tenant_a.id)
    await sql.execute("update billing_customers set emails = '{compta@acme.test}'")
    late = await add_invoice(sql, tenant_a.id, due_date=DUE)
    await add_invoice(sql, tenant_b.id, due_date=DUE, paid=True)  # paid: never reminded
    await add_invoice(sql, tenant_b.id, due_date=date(2026, 9, 30))  # not due yet
    db = app.state.job_context.db
    for _ in range(2):  # a second pass the same day sends nothing more
        async with db.service_session() as session:
            await send_due(session, settings, date(2026, 8, 8))
    reminders = await sql.fetch("select invoice_id, step, recipients, emailed from billing_payment_reminders")
    assert [tuple(r) for r in reminders] == [(late, "after:7", 2, True)]  # one member, one billing address
    notes = await sql.fetch("select user_id, title from notifications")
    assert [tuple(n) for n in notes] == [(tenant_a.member.id, "Facture F-2026-001 : en retard de 8 jours")]
    mails = await sql.fetch("select to_address, subject, client_id from email_outbox")
    assert [tuple(m) for m in mails] == [("compta@acme.test", "Facture F-2026-001 : en retard de 8 jours", tenant_a.id)]
    async with db.service_session() as session:
        assert await send_due(session, settings, date(2026, 8, 15)) == 1  # the next step, a week later
    assert await sql.fetchval("select count(*) from notifications") == 2


class TestFecExport:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"pennylane_api_token": SecretStr("pl-token")})

    @pytest.fixture
    def pennylane(self) -> Iterator[respx.MockRouter]:
        with respx.mock(assert_all_called=True) as router:
            yield router

    async def test_the_export_is_created_polled_filed_and_downloaded(
        self, app: Any, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User, tenant_a: Tenant,
        pennylane: respx.MockRouter,
    ) -> None:  # fmt: skip
        created = _fixture("pennylane_fec_export_create_docexample")
        ready = _fixture("pennylane_fec_export_ready_docexample")
        pennylane.post(f"{BASE}/exports/fecs").mock(return_value=httpx.Response(201, json=created))
        polls = pennylane.get(f"{BASE}/exports/fecs/124").mock(
            side_effect=[httpx.Response(200, json=created), httpx.Response(200, json=ready)]
        )
        fec = b"JournalCode|JournalLib|EcritureNum\nVT|Ventes|1\n"
        pennylane.get(ready["file_url"]).mock(return_value=httpx.Response(200, content=fec))

        asked = await client.post("/api/v1/billing/exports", headers=operator.headers,
                                  json={"period_start": "2026-01-01", "period_end": "2026-06-30"})  # fmt: skip
        assert asked.status_code == 202 and asked.json()["status"] == "queued"
        export_id = asked.json()["id"]
        worker = Worker(app.state.job_context, registered_handlers())
        await worker.run_pending()  # created, still pending: a poll is queued 20 s later
        await sql.execute("update jobs set run_after = now() where kind = 'billing.export_fec' and status = 'queued'")
        await worker.run_pending()
        assert polls.call_count == 2

        detail = await client.get(f"/api/v1/billing/exports/{export_id}", headers=operator.headers)
        assert (
            detail.status_code == 200 and detail.json()["status"] == "ready" and detail.json()["size_bytes"] == len(fec)
        )
        link = await client.get(f"/api/v1/billing/exports/{export_id}/download", headers=operator.headers)
        assert link.status_code == 200 and link.json()["file_name"] == "FEC_20260101_20260630.txt"
        listed = await client.get("/api/v1/billing/exports", headers=operator.headers)
        assert listed.status_code == 200 and [e["id"] for e in listed.json()["items"]] == [export_id]
        assert await sql.fetchval("select action from audit_log where entity_type = 'billing_export'") == (
            "billing.export_requested"
        )
        member = await client.get(f"/api/v1/billing/exports/{export_id}", headers=tenant_a.member.headers)
        assert member.status_code == 403

    async def test_a_bad_period_is_refused_and_writes_nothing(
        self, client: httpx.AsyncClient, sql: asyncpg.Connection, operator: User
    ) -> None:
        for body in ({"period_start": "2026-06-30", "period_end": "2026-01-01"},
                     {"period_start": "2024-01-01", "period_end": "2026-01-01"}):  # fmt: skip
            response = await client.post("/api/v1/billing/exports", headers=operator.headers, json=body)
            assert response.status_code == 422 and response.json()["code"] == "billing_invalid_period"
        assert await sql.fetchval("select count(*) from billing_exports") == 0
        missing = await client.get("/api/v1/billing/exports/00000000-0000-0000-0000-000000000000/download",
                                   headers=operator.headers)  # fmt: skip
        assert missing.status_code == 404


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]
