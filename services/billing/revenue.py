"""Revenue figures for analytics: invoiced and collected per month, outstanding and overdue today,
and the same per client — SQL over the mirror tables (services/billing/reports/repository.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.billing.payment_reminders import today
from services.billing.reports import repository
from services.billing.sync.errors import InvalidPeriod
from services.billing.sync.schemas import RevenueClient, RevenueMonth, RevenueReport
from services.core.db import UserSession

MAX_MONTHS = 36


def _months(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def _month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


async def revenue(session: UserSession, *, start: date, end: date, currency: str) -> RevenueReport:
    """Months from `start`'s to `end`'s, both whole."""
    first, last = start.replace(day=1), _month_end(end)
    if last < first:
        raise InvalidPeriod("end is before start", field="end")
    months = _months(first, last)
    if len(months) > MAX_MONTHS:
        raise InvalidPeriod(f"at most {MAX_MONTHS} months at a time", field="end")
    figures = await repository.revenue(session, currency=currency, start=first, end=last, today=today())
    invoiced = {row["month"]: row["total"] for row in figures["invoiced"]}
    collected = {row["month"]: row["total"] for row in figures["collected"]}
    zero = Decimal("0.00")
    per_month = [
        RevenueMonth(month=m, invoiced=invoiced.get(m, zero), collected=collected.get(m, zero)) for m in months
    ]
    return RevenueReport(
        currency=currency, start=first, end=last,
        months=per_month,
        outstanding=figures["totals"]["outstanding"], overdue=figures["totals"]["overdue"],
        clients=[RevenueClient.model_validate(dict(row)) for row in figures["clients"]],
    )  # fmt: skip
