"""What the incremental sync asks Pennylane (integrations-reference §1.6): one changelog page at a time
for customer invoices, quotes, customers and products, the re-fetch of one changed resource, and the
full listing used when the sync fell out of the changelog's 4-week window.

Every call goes through the client's HTTP layer, which waits the `retry-after` a 429 names before
sending again (and gives up with a `TransientError` carrying it once its retry budget is spent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Literal, get_args

from integrations.errors import NotFoundError, RequestError
from integrations.pennylane.client import PennylaneClient
from integrations.pennylane.models import ChangeEntry, Customer, CustomerInvoice, InvoiceLine, Page, Product, Quote
from integrations.pennylane.query import CHANGELOG_RETENTION, MAX_CHANGELOG_LIMIT, MAX_PAGE_LIMIT, VENDOR

SyncedResource = Literal["customers", "products", "quotes", "customer_invoices"]
# Parents first: an invoice or a quote names its customer, so customers land before the documents.
SYNCED_RESOURCES: tuple[SyncedResource, ...] = get_args(SyncedResource)
Resource = Customer | Product | Quote | CustomerInvoice
# A resource as it is now, with its lines for a quote or an invoice (None: not fetched).
Fetched = tuple[Resource, list[InvoiceLine] | None]


class ChangelogWindowError(RequestError):
    """The start date is older than the changelog's retention (Pennylane answers 422): list instead."""

    def __init__(self, resource: str, since: dt.datetime) -> None:
        super().__init__(VENDOR, 422, f"changelog of {resource} does not reach back to {since.isoformat()}")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PennylaneChangelogs:
    """The sync's view of one `PennylaneClient` (shared: it owns the rate limiter)."""

    def __init__(self, client: PennylaneClient, *, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self.client = client
        self._now = now

    @property
    def configured(self) -> bool:
        return self.client.configured

    def now(self) -> dt.datetime:
        return self._now()

    def window_start(self, margin: dt.timedelta = dt.timedelta(hours=1)) -> dt.datetime:
        """The oldest start date worth asking for: the retention, less a margin for clock skew and
        for the time a run takes."""
        return self._now() - CHANGELOG_RETENTION + margin

    async def page(
        self,
        resource: SyncedResource,
        *,
        since: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int = MAX_CHANGELOG_LIMIT,
    ) -> Page[ChangeEntry]:
        """One page of changes, oldest first: from `since` (inclusive) or from `next_cursor`."""
        if since is not None and since < self.window_start(dt.timedelta(0)):
            raise ChangelogWindowError(resource, since)
        try:
            return await self.client.changelog_page(resource, start_date=since, cursor=cursor, limit=limit)
        except RequestError as exc:
            if exc.status_code == 422 and since is not None:
                raise ChangelogWindowError(resource, since) from exc
            raise

    async def fetch(self, resource: SyncedResource, resource_id: int) -> Resource | None:
        """The resource as it is now; None when it no longer exists (deleted since the change)."""
        getters: dict[SyncedResource, Callable[[int], Awaitable[Resource]]] = {
            "customers": self.client.get_customer,
            "products": self.client.get_product,
            "quotes": self.client.get_quote,
            "customer_invoices": self.client.get_customer_invoice,
        }
        try:
            return await getters[resource](resource_id)
        except NotFoundError:
            return None

    async def fetch_with_lines(self, resource: SyncedResource, resource_id: int) -> Fetched | None:
        """`fetch`, plus every line of a quote or an invoice (one more call per 100 lines)."""
        item = await self.fetch(resource, resource_id)
        if item is None or not isinstance(item, Quote | CustomerInvoice):
            return None if item is None else (item, None)
        lines: list[InvoiceLine] = []
        cursor: str | None = None
        while True:
            try:
                if isinstance(item, Quote):
                    page = await self.client.list_quote_invoice_lines(item.id, cursor=cursor, limit=MAX_PAGE_LIMIT)
                else:
                    page = await self.client.list_customer_invoice_lines(item.id, cursor=cursor, limit=MAX_PAGE_LIMIT)
            except NotFoundError:
                return None  # deleted between the two calls
            lines.extend(page.items)
            if not page.has_more or not page.next_cursor:
                return item, lines
            cursor = page.next_cursor

    async def listing(self, resource: SyncedResource, cursor: str | None = None) -> Page[Resource]:
        """One page of every live resource, by ascending id (the fallback when the cursor is too old)."""
        page: Page[Customer] | Page[Product] | Page[Quote] | Page[CustomerInvoice]
        if resource == "customers":
            page = await self.client.list_customers(cursor=cursor, limit=MAX_PAGE_LIMIT, sort="id")
        elif resource == "products":
            page = await self.client.list_products(cursor=cursor, limit=MAX_PAGE_LIMIT, sort="id")
        elif resource == "quotes":
            page = await self.client.list_quotes(cursor=cursor, limit=MAX_PAGE_LIMIT, sort="id")
        else:
            page = await self.client.list_customer_invoices(cursor=cursor, limit=MAX_PAGE_LIMIT, sort="id")
        return Page[Resource](items=list(page.items), has_more=page.has_more, next_cursor=page.next_cursor)
