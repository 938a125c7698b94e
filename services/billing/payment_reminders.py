"""Payment reminders before and after an invoice's due date, on the configured cadence
(BILLING_REMINDER_DAYS_BEFORE / _AFTER). Each step is sent once per invoice: its row is inserted
with `on conflict do nothing` in the transaction that notifies, so a second run sends nothing.

Only the latest step that applies is sent: an invoice found 20 days late gets the 15-day reminder,
not the 1-, 7- and 15-day ones at once. Each goes out as a notification to the client's members and
as an e-mail to the client's billing addresses through the reminders engine's outbox (sent by its
job after the commit, so a rolled-back pass e-mails nobody).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from services.billing.stripe_links import enqueue_payment_link
from services.billing.sync import repository
from services.core.db import ServiceSession
from services.core.settings import Settings
from services.notifications import service as notifications
from services.reminders import service as reminders

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    return datetime.now(PARIS).date()


def cadence(settings: Settings) -> list[tuple[str, int]]:
    """(step, offset from the due date in days), in the order they fall due."""
    before = [(f"before:{d}", -d) for d in set(settings.billing_reminder_days_before)]
    after = [(f"after:{d}", d) for d in set(settings.billing_reminder_days_after)]
    return sorted(before + after, key=lambda step: step[1])


def step_due(steps: list[tuple[str, int]], due: date, on: date) -> str | None:
    """The latest step whose day has come; before-due steps lapse once the due date is reached."""
    current = None
    for name, offset in steps:
        if due + timedelta(days=offset) <= on and (offset >= 0 or on < due):
            current = name
    return current


def _message(invoice: asyncpg.Record, step: str, on: date) -> tuple[str, str]:
    number = invoice["invoice_number"] or invoice["label"] or "sans numéro"
    owed = f"{invoice['amount'] - invoice['paid_amount']} {invoice['currency']}"
    due = invoice["due_date"].strftime("%d/%m/%Y")
    if step.startswith("before:"):
        return f"Facture {number} : échéance le {due}", f"Reste à régler : {owed}."
    late = (on - invoice["due_date"]).days
    return (
        f"Facture {number} : en retard de {late} jour{'s' if late > 1 else ''}",
        f"Reste à régler : {owed}, dû le {due}.",
    )


def _pay_here(settings: Settings) -> str:
    return f"Vos factures et le paiement en ligne : {settings.public_base_url.rstrip('/')}/billing/invoices"


async def send_due(session: ServiceSession, settings: Settings, on: date | None = None) -> int:
    """Send every reminder whose day has come; the number sent."""
    on = on or today()
    steps = cadence(settings)
    if not steps:
        return 0
    horizon = on + timedelta(days=max(0, -steps[0][1]))
    sent = 0
    for invoice in await repository.reminder_candidates(session, horizon):
        step = step_due(steps, invoice["due_date"], on)
        if step is None or step in invoice["sent_steps"]:
            continue
        members = await notifications.client_member_ids(session, invoice["client_id"])
        emails = list(invoice["emails"] or [])
        recorded = await repository.record_reminder(
            session, client_id=invoice["client_id"], invoice_id=invoice["id"], step=step,
            due_date=invoice["due_date"], recipients=len(members) + len(emails), emailed=bool(emails),
        )  # fmt: skip
        if not recorded:
            continue  # another run sent this step meanwhile
        title, body = _message(invoice, step, on)
        await notifications.notify_client_members(
            session, invoice["client_id"], source="system", title=title, body=body, priority="high",
            entity_type="billing_invoice", entity_id=str(invoice["id"]),
        )  # fmt: skip
        for address in emails:
            await reminders.send_email(
                session, to=address, subject=title, text=f"{body}\n\n{_pay_here(settings)}",
                client_id=invoice["client_id"],
            )  # fmt: skip
        if settings.stripe_secret_key is not None:
            await enqueue_payment_link(session, invoice["id"], invoice["client_id"])
        sent += 1
    return sent
