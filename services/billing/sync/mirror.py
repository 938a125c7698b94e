"""How a Pennylane resource lands in the mirror tables of the billing core: products as they are;
quotes and invoices of linked customers (an unknown customer is not one of Foxeo's clients); for
customers, only what Pennylane may change on a row Foxeo owns (name, e-mails, its timestamp)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from integrations.pennylane.changelogs import Resource, SyncedResource
from integrations.pennylane.models import Customer, CustomerInvoice, Product, Quote
from services.billing.sync import repository
from services.core.db import ServiceSession

CENT = Decimal("0.01")


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _text(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _product(p: Product) -> dict[str, Any]:
    return {
        "pennylane_id": p.id, "label": p.label[:500] or str(p.id), "description": _text(p.description, 5000),
        "reference": _text(p.reference, 200), "external_reference": _text(p.external_reference, 200),
        "price_before_tax": p.price_before_tax, "price": p.price, "vat_rate": p.vat_rate or None,
        "unit": _text(p.unit, 40), "currency": p.currency.upper(), "archived_at": p.archived_at,
        "pennylane_updated_at": p.updated_at,
    }  # fmt: skip


def _document(d: Quote | CustomerInvoice) -> dict[str, Any]:
    issued = d.date or (d.created_at.date() if d.created_at else None)
    return {
        "pennylane_id": d.id, "label": (d.label or "")[:200], "currency": d.currency.upper(),
        "issue_date": issued, "amount": _money(d.amount), "tax": _money(d.tax) or Decimal(0),
        "amount_before_tax": _money(d.currency_amount_before_tax) or _money(d.amount - (d.tax or 0)),
        "pdf_url": _text(d.public_file_url, 2048), "pennylane_updated_at": d.updated_at,
        "push_state": "done",
    }  # fmt: skip


class SqlMirror:
    """The `Mirror` the sync writes through (one statement per resource, keyed by Pennylane id)."""

    async def upsert(self, session: ServiceSession, resource: SyncedResource, items: Sequence[Resource]) -> int:
        if resource == "customers":
            return await self._customers(session, [c for c in items if isinstance(c, Customer)])
        if resource == "products":
            for product in items:
                assert isinstance(product, Product)
                await repository.upsert_mirror(session, resource, _product(product))
            return len(items)
        return await self._documents(session, resource, items)

    async def delete(self, session: ServiceSession, resource: SyncedResource, pennylane_ids: Sequence[int]) -> int:
        return await repository.mark_deleted(session, resource, list(pennylane_ids), missing=False)

    async def delete_missing(self, session: ServiceSession, resource: SyncedResource, live_ids: Sequence[int]) -> int:
        return await repository.mark_deleted(session, resource, list(live_ids), missing=True)

    async def _customers(self, session: ServiceSession, items: list[Customer]) -> int:
        written = 0
        for c in items:
            written += await repository.update_customer(
                session, pennylane_id=c.id, legal_name=c.name[:200] or str(c.id), emails=c.emails[:20],
                pennylane_updated_at=c.updated_at,
            )  # fmt: skip
        return written

    async def _documents(self, session: ServiceSession, resource: SyncedResource, items: Sequence[Resource]) -> int:
        docs = [d for d in items if isinstance(d, Quote | CustomerInvoice) and d.customer is not None]
        owners = await repository.client_ids(session, sorted({d.customer.id for d in docs if d.customer}))
        links = await self._links(session, [d for d in docs if isinstance(d, CustomerInvoice)])
        written = 0
        for doc in docs:
            client_id = owners.get(doc.customer.id) if doc.customer else None
            if client_id is None:
                continue  # a Pennylane customer no Foxeo client is linked to
            values = {**_document(doc), "client_id": client_id}
            if values["issue_date"] is None:
                continue  # UNVERIFIED: Pennylane always dates documents; a dateless one cannot be mirrored
            deadline = doc.deadline or values["issue_date"]
            if isinstance(doc, Quote):
                values |= {"quote_number": _text(doc.quote_number, 100), "status": doc.status[:40],
                           "valid_until": max(deadline, values["issue_date"])}  # fmt: skip
            else:
                values |= self._invoice(doc, client_id, links, max(deadline, values["issue_date"]))
            await repository.upsert_mirror(session, resource, values)
            written += 1
        return written

    @staticmethod
    async def _links(session: ServiceSession, invoices: list[CustomerInvoice]) -> dict[str, dict[int, Any]]:
        """Local ids of the quotes, subscriptions and credited invoices the invoices point at."""
        wanted = {
            "quotes": {i.quote.id for i in invoices if i.quote},
            "subscriptions": {i.billing_subscription.id for i in invoices if i.billing_subscription},
            "customer_invoices": {i.credited_invoice.id for i in invoices if i.credited_invoice},
        }
        return {name: await repository.local_ids(session, name, sorted(ids)) for name, ids in wanted.items()}

    @staticmethod
    def _invoice(doc: CustomerInvoice, client_id: object, links: dict[str, dict[int, Any]], due: Any) -> dict[str, Any]:
        def local(kind: str, ref: Any) -> Any:
            found = links[kind].get(ref.id) if ref is not None else None
            return found[0] if found is not None and found[1] == client_id else None  # same client only

        credited = local("customer_invoices", doc.credited_invoice)
        credit_note = doc.status == "credit_note" or doc.credited_invoice is not None
        return {
            "kind": "credit_note" if credit_note else "invoice", "invoice_number": doc.invoice_number[:100],
            "status": doc.status[:40], "draft": doc.draft, "paid": doc.paid, "due_date": due,
            "remaining_amount": _money(doc.remaining_amount_with_tax), "quote_id": local("quotes", doc.quote),
            "subscription_id": local("subscriptions", doc.billing_subscription),
            "credited_invoice_id": credited if credit_note else None,
        }  # fmt: skip
