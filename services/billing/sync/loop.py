"""The incremental Pennylane sync: walk each changelog from the stored cursor, re-fetch what changed,
apply deletions, and write the mirror rows and the new cursor in ONE transaction per changelog page.

A crash between a page's fetches and its commit therefore loses nothing: the cursor still points
before the page, and the next run fetches it again (every write is an idempotent upsert). A cursor
older than the changelog's window, or none at all, falls back to a full listing. Work grows with
the number of changes: a run with no change costs one changelog call per resource and no write to
the mirror.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from integrations.errors import IntegrationError
from integrations.pennylane.changelogs import (
    SYNCED_RESOURCES,
    ChangelogWindowError,
    Fetched,
    PennylaneChangelogs,
    SyncedResource,
)
from integrations.pennylane.models import ChangeEntry
from services.billing.sync import repository
from services.core.db import Database, ServiceSession

log = logging.getLogger(__name__)
# Changes Pennylane processes while a full listing runs show up in the changelog after this instant.
FULL_LISTING_OVERLAP = dt.timedelta(minutes=1)


class Mirror(Protocol):
    """Where synced resources land (the billing core's upserts, keyed by Pennylane id)."""

    async def upsert(self, session: ServiceSession, resource: SyncedResource, items: Sequence[Fetched]) -> int:
        """Write the resources as they are now; the number of mirror rows written."""
        ...

    async def delete(self, session: ServiceSession, resource: SyncedResource, pennylane_ids: Sequence[int]) -> int:
        """Mark those resources deleted; the number of mirror rows changed."""
        ...

    async def delete_missing(self, session: ServiceSession, resource: SyncedResource, live_ids: Sequence[int]) -> int:
        """After a full listing: mark deleted every mirrored resource Pennylane no longer lists."""
        ...


@dataclass
class ResourceRun:
    resource: SyncedResource
    mode: str = "incremental"
    changes: int = 0
    batches: int = 0
    error: str | None = None


@dataclass
class SyncRun:
    resources: list[ResourceRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.resources)


@dataclass(frozen=True)
class _Cursor:
    at: dt.datetime | None
    ids: frozenset[int]

    def seen(self, entry: ChangeEntry) -> bool:
        """Already applied: before the cursor, or at its instant and among the ids applied there."""
        if self.at is None:
            return False
        return entry.processed_at < self.at or (entry.processed_at == self.at and entry.id in self.ids)

    def advanced(self, entries: Sequence[ChangeEntry]) -> _Cursor:
        if not entries:
            return self
        last = max(e.processed_at for e in entries)
        at_last = {e.id for e in entries if e.processed_at == last}
        return _Cursor(last, frozenset(at_last | (self.ids if last == self.at else set())))


def latest_operations(entries: Sequence[ChangeEntry]) -> tuple[list[int], list[int]]:
    """(ids to re-fetch, ids deleted), each id once, by its last operation (entries are oldest first)."""
    last: dict[int, str] = {}
    for entry in sorted(entries, key=lambda e: e.processed_at):
        last.pop(entry.id, None)
        last[entry.id] = entry.operation
    changed = [i for i, op in last.items() if op != "delete"]
    deleted = [i for i, op in last.items() if op == "delete"]
    return changed, deleted


class PennylaneSync:
    def __init__(self, db: Database, changelogs: PennylaneChangelogs, mirror: Mirror) -> None:
        self.db = db
        self.changelogs = changelogs
        self.mirror = mirror

    async def run(self, resources: Sequence[SyncedResource] = SYNCED_RESOURCES) -> SyncRun:
        """Every resource in turn; one failing (rate limit exhausted, Pennylane down) is recorded in
        its state and does not stop the others. Committed batches stay committed."""
        outcome = SyncRun()
        for resource in resources:
            report = ResourceRun(resource)
            outcome.resources.append(report)
            try:
                await self._resource(report)
            except Exception as exc:  # Pennylane down, a row the mirror refuses...: recorded, the others go on
                report.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, IntegrationError) else str(exc)
                log.warning("billing sync failed", extra={"resource": resource, "error": report.error})
                async with self.db.service_session() as session:
                    await repository.record_error(session, resource, report.error)
        return outcome

    async def _resource(self, report: ResourceRun) -> None:
        async with self.db.service_session() as session:
            state = await repository.sync_state(session, report.resource)
        cursor = _Cursor(state["cursor_at"], frozenset(state["cursor_ids"])) if state else _Cursor(None, frozenset())
        if cursor.at is None or cursor.at < self.changelogs.window_start():
            await self._full(report)
            return
        try:
            await self._incremental(report, cursor)
        except ChangelogWindowError:  # Pennylane's clock disagreed with ours about the window
            await self._full(report)

    async def _incremental(self, report: ResourceRun, cursor: _Cursor) -> None:
        since: dt.datetime | None = cursor.at
        page_cursor: str | None = None
        while True:
            page = await self.changelogs.page(report.resource, since=since, cursor=page_cursor)
            fresh = [e for e in page.items if not cursor.seen(e)]
            if fresh or report.batches == 0:
                cursor = await self._apply(report, fresh, cursor)
            if not page.has_more or not page.next_cursor:
                return
            since, page_cursor = None, page.next_cursor

    async def _apply(self, report: ResourceRun, entries: list[ChangeEntry], cursor: _Cursor) -> _Cursor:
        """Fetch every changed resource, then write them, the deletions and the cursor in one commit."""
        changed, deleted = latest_operations(entries)
        items: list[Fetched] = []
        for resource_id in changed:
            item = await self.changelogs.fetch_with_lines(report.resource, resource_id)
            if item is None:  # deleted after the change was logged
                deleted.append(resource_id)
            else:
                items.append(item)
        after = cursor.advanced(entries)
        async with self.db.service_session() as session:
            written = await self.mirror.upsert(session, report.resource, items) if items else 0
            written += await self.mirror.delete(session, report.resource, deleted) if deleted else 0
            await repository.save_cursor(
                session, report.resource, after.at, sorted(after.ids),
                mode="incremental", changes=len(entries), accumulate=report.batches > 0,
            )  # fmt: skip
        report.batches += 1
        report.changes += len(entries)
        log.debug("billing sync batch", extra={"resource": report.resource, "written": written})
        return after

    async def _full(self, report: ResourceRun) -> None:
        """List everything, upsert page by page, then mark what is gone and set the cursor to the
        listing's start (less an overlap): a crash part-way restarts the listing, nothing is lost."""
        report.mode = "full"
        started = self.changelogs.now() - FULL_LISTING_OVERLAP
        live: list[int] = []
        page_cursor: str | None = None
        while True:
            page = await self.changelogs.listing(report.resource, page_cursor)
            live.extend(item.id for item in page.items)
            if page.items:
                async with self.db.service_session() as session:
                    # Lines are left as they are: fetching them for the whole history would cost a call
                    # per document; the next change of each document brings its lines.
                    await self.mirror.upsert(session, report.resource, [(item, None) for item in page.items])
            if not page.has_more or not page.next_cursor:
                break
            page_cursor = page.next_cursor
        async with self.db.service_session() as session:
            await self.mirror.delete_missing(session, report.resource, live)
            await repository.save_cursor(
                session, report.resource, started, [], mode="full", changes=len(live), accumulate=False
            )
        report.batches += 1
        report.changes = len(live)
