"""E-mails through the outbox: sent by SMTP to a real server in-process, retried, refused, or kept as
`not_sent` without SMTP settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from services.core.db import Database
from services.core.queue import JobContext
from services.core.settings import Settings
from services.core.worker import Worker
from services.reminders import jobs, service
from tests.conftest import Tenant, User
from tests.reminders.smtp_server import Inbox, smtp_server

SENDER = "Foxeo <noreply@foxeo.test>"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    async with smtp_server() as server:
        yield server


@pytest.fixture
def smtp_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp[1], "smtp_from": SENDER, "smtp_starttls": False,
                "smtp_timeout_seconds": 5.0, "jobs_max_attempts": 2}
    )  # fmt: skip


def worker(db: Database, settings: Settings) -> Worker:
    return Worker(JobContext(db, settings), {jobs.SEND_EMAIL_JOB: jobs.send_email})


async def queue(db: Database, to: str = "alice@example.com", client_id: UUID | None = None) -> UUID:
    async with db.service_session() as session:
        return await service.send_email(
            session, to=to, subject="Votre séance de demain", text="À demain, 10h.\nMiKL", client_id=client_id
        )


async def outbox(sql: asyncpg.Connection, email_id: UUID) -> asyncpg.Record:
    row = await sql.fetchrow("select * from public.email_outbox where id = $1", email_id)
    assert row is not None
    return row


async def job_of(sql: asyncpg.Connection, email_id: UUID) -> asyncpg.Record:
    row = await sql.fetchrow("select * from public.jobs where payload ->> 'email_id' = $1", str(email_id))
    assert row is not None
    return row


async def test_a_queued_email_is_sent_by_smtp_once(
    db: Database, sql: asyncpg.Connection, smtp_settings: Settings, smtp: tuple[Inbox, int], tenant_a: Tenant
) -> None:
    inbox, _ = smtp
    email_id = await queue(db, client_id=tenant_a.id)
    await worker(db, smtp_settings).run_pending()
    [message] = inbox.messages
    assert inbox.envelopes == [("noreply@foxeo.test", ["alice@example.com"])]
    assert (message["To"], message["From"], message["Subject"]) == (
        "alice@example.com",
        SENDER,
        "Votre séance de demain",
    )
    assert message["Message-ID"] == f"<{email_id}@foxeo>"
    assert message.get_content().splitlines() == ["À demain, 10h.", "MiKL"]
    row = await outbox(sql, email_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert row["sent_at"] is not None and "queued as Q1" in row["provider_message_id"]
    assert (await job_of(sql, email_id))["status"] == "done"
    actions = await sql.fetch("select action from public.audit_log where entity_id = $1 order by id", str(email_id))
    assert [a["action"] for a in actions] == ["email.queued", "email.sent"]
    # The job running again (a lost lease) finds the e-mail sent and sends nothing.
    await sql.execute("update public.jobs set status = 'queued', run_after = now()")
    await worker(db, smtp_settings).run_pending()
    assert len(inbox.messages) == 1


async def test_a_refused_recipient_fails_the_email_for_good(
    db: Database, sql: asyncpg.Connection, smtp_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    inbox.refuse["nobody@example.com"] = "550 5.1.1 No such user"
    email_id = await queue(db, to="nobody@example.com")
    await worker(db, smtp_settings).run_pending()
    row = await outbox(sql, email_id)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"] and "No such user" in row["last_error"]
    assert (await job_of(sql, email_id))["status"] == "dead"
    assert inbox.messages == []


async def test_a_temporary_refusal_is_retried_then_sent(
    db: Database, sql: asyncpg.Connection, smtp_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    inbox.refuse["alice@example.com"] = "451 4.7.1 Greylisted, try again later"
    email_id = await queue(db)
    await worker(db, smtp_settings).run_pending()
    row = await outbox(sql, email_id)
    assert (row["status"], row["attempts"]) == ("queued", 1) and "451" in row["last_error"]
    job = await job_of(sql, email_id)
    assert job["status"] == "failed" and job["run_after"] > datetime.now(UTC)  # backoff
    del inbox.refuse["alice@example.com"]
    await sql.execute("update public.jobs set run_after = now() where id = $1", job["id"])
    await worker(db, smtp_settings).run_pending()
    row = await outbox(sql, email_id)
    assert (row["status"], row["attempts"]) == ("sent", 2) and len(inbox.messages) == 1


async def test_an_unreachable_server_fails_the_email_after_the_last_attempt(
    db: Database, sql: asyncpg.Connection, smtp_settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    closed = smtp_settings.model_copy(update={"smtp_port": 1})  # nothing listens there
    email_id = await queue(db)
    for _ in range(2):  # jobs_max_attempts
        await worker(db, closed).run_pending()
        await sql.execute("update public.jobs set run_after = now() where status = 'failed'")
    row = await outbox(sql, email_id)
    assert (row["status"], row["attempts"]) == ("failed", 2) and "smtp" in row["last_error"]
    assert (await job_of(sql, email_id))["status"] == "dead"


async def test_without_smtp_the_email_stays_in_the_outbox_as_not_sent(
    db: Database, sql: asyncpg.Connection, settings: Settings
) -> None:
    assert settings.smtp_host is None  # the embedded default
    email_id = await queue(db)
    await worker(db, settings).run_pending()
    row = await outbox(sql, email_id)
    assert row["status"] == "not_sent" and "FOXEO_SMTP_HOST" in row["last_error"]
    assert row["body"] == "À demain, 10h.\nMiKL"  # what would have been sent
    assert (await job_of(sql, email_id))["status"] == "done"


async def test_a_fired_reminder_emails_its_recipients_through_smtp(
    db: Database,
    sql: asyncpg.Connection,
    smtp_settings: Settings,
    smtp: tuple[Inbox, int],
    tenant_a: Tenant,
    operator: User,
) -> None:
    inbox, _ = smtp
    async with db.service_session() as session:
        await service.schedule(
            session, kind="billing.payment_due", subject_type="invoice", subject_id="F-2026-001",
            due_at=datetime.now(UTC) - timedelta(minutes=5), title="Facture F-2026-001 à régler",
            body="Échéance aujourd'hui.", client_id=tenant_a.id, audience="members", email=True, link="/billing",
        )  # fmt: skip
        assert await service.fire_due(session, batch=10) == 1
    await worker(db, smtp_settings).run_pending()
    [message] = inbox.messages
    assert message["To"] == tenant_a.member.email and message["Subject"] == "Facture F-2026-001 à régler"
    text = message.get_content()
    assert "Échéance aujourd'hui." in text and "/billing" in text
    assert await sql.fetchval("select status from public.email_outbox") == "sent"
