"""The `Mirror` the sync writes through: the billing core's `apply_pennylane_*` upserts (keyed by
Pennylane id, older copies ignored, each audited) and `apply_pennylane_deletion`."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.pennylane.changelogs import Fetched, SyncedResource
from integrations.pennylane.models import Customer, CustomerInvoice, Product, Quote
from services.billing import service
from services.billing.sync import repository
from services.core.db import ServiceSession


class CoreMirror:
    async def upsert(self, session: ServiceSession, resource: SyncedResource, items: Sequence[Fetched]) -> int:
        written = 0
        for item, lines in items:
            if isinstance(item, Customer):
                written += await service.apply_pennylane_customer(session, item)
            elif isinstance(item, Product):
                await service.apply_pennylane_product(session, item)
                written += 1
            elif isinstance(item, Quote):
                written += await service.apply_pennylane_quote(session, item, lines) is not None
            elif isinstance(item, CustomerInvoice):
                written += await service.apply_pennylane_invoice(session, item, lines) is not None
        return written

    async def delete(self, session: ServiceSession, resource: SyncedResource, pennylane_ids: Sequence[int]) -> int:
        return sum([await service.apply_pennylane_deletion(session, resource, i) for i in pennylane_ids])

    async def delete_missing(self, session: ServiceSession, resource: SyncedResource, live_ids: Sequence[int]) -> int:
        gone = sorted(await repository.mirrored_ids(session, resource) - set(live_ids))
        return await self.delete(session, resource, gone)
