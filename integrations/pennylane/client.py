"""Pennylane Company API v2 client (integrations-reference §1): customers, products, quotes, customer
invoices, billing subscriptions and the changelogs that drive the incremental sync."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from integrations._http import RateLimiter, RetryPolicy, Sleep, VendorHTTP, parse_retry_after
from integrations.errors import IntegrationError, NotConfiguredError
from integrations.pennylane.inputs import (
    BillingSubscriptionCreate,
    BillingSubscriptionUpdate,
    CompanyCustomerCreate,
    CompanyCustomerUpdate,
    CustomerInvoiceCreate,
    CustomerInvoiceUpdate,
    IndividualCustomerCreate,
    IndividualCustomerUpdate,
    QuoteCreate,
)
from integrations.pennylane.models import (
    BillingSubscription,
    ChangeEntry,
    Customer,
    CustomerInvoice,
    InvoiceLine,
    Me,
    Page,
    Product,
    Quote,
)
from integrations.pennylane.query import (
    VENDOR,
    ChangelogResource,
    Filter,
    PennylanePdfNotReadyError,
    QuoteStatus,
    changelog_params,
    page_params,
)

TOKEN_SETTING = "PENNYLANE_API_TOKEN"
DEFAULT_BASE_URL = "https://app.pennylane.com/api/external/v2"

M = TypeVar("M", bound=BaseModel)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PennylaneClient:
    """One per process, built in the lifespan; `token` None/empty means not configured."""

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = httpx.Timeout(20.0, connect=5.0),
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._token = token or None
        self._now = now
        self._host = httpx.URL(base_url).host
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        # Pennylane allows 25 requests per 5 s per token; one below it absorbs latency jitter between
        # our window and theirs, and a 429 that slips through still waits for `retry-after`. The default
        # limiter keeps real time on both sides: an injected `sleep` against a real clock would spin.
        self._http = VendorHTTP(
            VENDOR,
            base_url,
            headers=headers,
            timeout=timeout,
            retry=retry,
            limiter=limiter or RateLimiter(24, 5.0),
            transport=transport,
            sleep=sleep,
        )

    @property
    def configured(self) -> bool:
        return self._token is not None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> PennylaneClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- plumbing ---------------------------------------------------------------------------------

    def _require_token(self) -> None:
        if self._token is None:
            raise NotConfiguredError(VENDOR, TOKEN_SETTING)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        self._require_token()
        return await self._http.request(
            method, path, params=params, json=body, idempotent=idempotent, expected=expected
        )

    async def _fetch(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        response = await self._send(method, path, **kwargs)
        return self._parse(model, response)

    @staticmethod
    def _parse(model: type[M], response: httpx.Response) -> M:
        try:
            # Decimal for JSON numbers too: an amount must never transit through a float.
            data = json.loads(response.content, parse_float=Decimal)
            return model.model_validate(data)
        except (ValueError, ValidationError) as exc:
            path = response.request.url.path
            raise IntegrationError(VENDOR, f"unexpected response to {path}: {exc}") from exc

    # -- account ----------------------------------------------------------------------------------

    async def me(self) -> Me:
        """The token's user, company and scopes; a cheap credentials check."""
        return await self._fetch(Me, "GET", "/me")

    # -- customers --------------------------------------------------------------------------------

    async def list_customers(
        self,
        filters: Sequence[Filter] = (),
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Page[Customer]:
        """Company and individual customers; filter on id, customer_type, name, external_reference, reg_no,
        emails, ledger_account_id."""
        params = page_params(filters, cursor, limit, sort)
        return await self._fetch(Page[Customer], "GET", "/customers", params=params)

    async def get_customer(self, customer_id: int) -> Customer:
        return await self._fetch(Customer, "GET", f"/customers/{int(customer_id)}")

    async def _typed_customer(self, kind: str, method: str, path: str, **kwargs: Any) -> Customer:
        customer = await self._fetch(Customer, method, path, **kwargs)
        customer.customer_type = customer.customer_type or kind
        return customer

    async def create_company_customer(self, data: CompanyCustomerCreate) -> Customer:
        return await self._typed_customer("company", "POST", "/company_customers", body=data.body())

    async def get_company_customer(self, customer_id: int) -> Customer:
        return await self._typed_customer("company", "GET", f"/company_customers/{int(customer_id)}")

    async def update_company_customer(self, customer_id: int, data: CompanyCustomerUpdate) -> Customer:
        path = f"/company_customers/{int(customer_id)}"
        return await self._typed_customer("company", "PUT", path, body=data.body())

    async def create_individual_customer(self, data: IndividualCustomerCreate) -> Customer:
        return await self._typed_customer("individual", "POST", "/individual_customers", body=data.body())

    async def get_individual_customer(self, customer_id: int) -> Customer:
        return await self._typed_customer("individual", "GET", f"/individual_customers/{int(customer_id)}")

    async def update_individual_customer(self, customer_id: int, data: IndividualCustomerUpdate) -> Customer:
        path = f"/individual_customers/{int(customer_id)}"
        return await self._typed_customer("individual", "PUT", path, body=data.body())

    # -- products ---------------------------------------------------------------------------------

    async def get_product(self, product_id: int) -> Product:
        return await self._fetch(Product, "GET", f"/products/{int(product_id)}")

    async def list_products(
        self,
        filters: Sequence[Filter] = (),
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Page[Product]:
        """Filter on id, label, reference, external_reference."""
        params = page_params(filters, cursor, limit, sort)
        return await self._fetch(Page[Product], "GET", "/products", params=params)

    # -- quotes -----------------------------------------------------------------------------------

    async def create_quote(self, data: QuoteCreate) -> Quote:
        return await self._fetch(Quote, "POST", "/quotes", body=data.body())

    async def get_quote(self, quote_id: int) -> Quote:
        return await self._fetch(Quote, "GET", f"/quotes/{int(quote_id)}")

    async def list_quotes(
        self,
        filters: Sequence[Filter] = (),
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Page[Quote]:
        """Filter on id, customer_id, status."""
        params = page_params(filters, cursor, limit, sort)
        return await self._fetch(Page[Quote], "GET", "/quotes", params=params)

    async def update_quote_status(self, quote_id: int, status: QuoteStatus) -> Quote:
        path = f"/quotes/{int(quote_id)}/update_status"
        return await self._fetch(Quote, "PUT", path, body={"status": status})

    async def send_quote_by_email(self, quote_id: int, recipients: Sequence[str]) -> None:
        await self._send_by_email("quote", f"/quotes/{int(quote_id)}/send_by_email", quote_id, recipients)

    async def list_quote_invoice_lines(
        self, quote_id: int, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[InvoiceLine]:
        params = page_params((), cursor, limit, None)
        path = f"/quotes/{int(quote_id)}/invoice_lines"
        return await self._fetch(Page[InvoiceLine], "GET", path, params=params)

    # -- customer invoices ------------------------------------------------------------------------

    async def create_customer_invoice(self, data: CustomerInvoiceCreate) -> CustomerInvoice:
        """A draft (`draft=True`) or a finalized invoice; creations are never retried on 5xx."""
        return await self._fetch(CustomerInvoice, "POST", "/customer_invoices", body=data.body())

    async def create_customer_invoice_from_quote(self, quote_id: int, *, draft: bool = True) -> CustomerInvoice:
        body = {"quote_id": int(quote_id), "draft": draft}
        return await self._fetch(CustomerInvoice, "POST", "/customer_invoices/create_from_quote", body=body)

    async def get_customer_invoice(self, invoice_id: int) -> CustomerInvoice:
        return await self._fetch(CustomerInvoice, "GET", f"/customer_invoices/{int(invoice_id)}")

    async def list_customer_invoices(
        self,
        filters: Sequence[Filter] = (),
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Page[CustomerInvoice]:
        """Filter on id, date, customer_id, billing_subscription_id, quote_id, invoice_number, draft,
        credit_note, external_reference...; sort on `id` or `date` (`-` for descending)."""
        params = page_params(filters, cursor, limit, sort)
        return await self._fetch(Page[CustomerInvoice], "GET", "/customer_invoices", params=params)

    async def update_customer_invoice(self, invoice_id: int, data: CustomerInvoiceUpdate) -> CustomerInvoice:
        """Edit a draft (a finalized invoice is refused by Pennylane with a 4xx)."""
        path = f"/customer_invoices/{int(invoice_id)}"
        return await self._fetch(CustomerInvoice, "PUT", path, body=data.body())

    async def link_credit_note(self, invoice_id: int, credit_note_id: int) -> None:
        """Attach a credit note (an invoice created with negative amounts) to the invoice it credits.

        UNVERIFIED body: the API reference names the endpoint; `credited_invoice_id` on creation is ignored
        by Pennylane since June 2025, so this call is the only link.
        """
        path = f"/customer_invoices/{int(invoice_id)}/link_credit_note"
        await self._send("POST", path, body={"credit_note_id": int(credit_note_id)}, idempotent=True)

    async def download_public_file(self, url: str) -> bytes:
        """A document's PDF from its `public_file_url`; only Pennylane's own host is fetched (the URL comes
        from a payload, and the token must never leave for another host)."""
        target = httpx.URL(url)
        if target.scheme != "https" or target.host != self._host:
            raise IntegrationError(VENDOR, f"refusing to download a file outside {self._host}: {target.host}")
        response = await self._send("GET", str(target))
        return response.content

    async def finalize_customer_invoice(self, invoice_id: int) -> CustomerInvoice:
        """Draft → finalized (numbered, no longer editable)."""
        path = f"/customer_invoices/{int(invoice_id)}/finalize"
        # A blind retry after a lost response would hit an already-finalized invoice and fail confusingly;
        # the caller re-reads the invoice instead.
        response = await self._send("PUT", path, idempotent=False)
        # UNVERIFIED: no recording of this response; re-read the invoice if it carries no body.
        if not response.content:
            return await self.get_customer_invoice(invoice_id)
        return self._parse(CustomerInvoice, response)

    async def mark_customer_invoice_as_paid(self, invoice_id: int) -> None:
        """No automatic reconciliation on Pennylane's side (204)."""
        await self._send("PUT", f"/customer_invoices/{int(invoice_id)}/mark_as_paid")

    async def send_customer_invoice_by_email(self, invoice_id: int, recipients: Sequence[str]) -> None:
        """Raises `PennylanePdfNotReadyError` while the PDF is being generated.

        E-invoicing-eligible invoices sent this way can no longer go through the PA.
        """
        path = f"/customer_invoices/{int(invoice_id)}/send_by_email"
        await self._send_by_email("customer invoice", path, invoice_id, recipients)

    async def list_customer_invoice_lines(
        self, invoice_id: int, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[InvoiceLine]:
        params = page_params((), cursor, limit, None)
        path = f"/customer_invoices/{int(invoice_id)}/invoice_lines"
        return await self._fetch(Page[InvoiceLine], "GET", path, params=params)

    async def _send_by_email(self, document: str, path: str, document_id: int, recipients: Sequence[str]) -> None:
        response = await self._send("POST", path, body={"recipients": list(recipients)}, expected=(409,))
        if response.status_code == 409:
            # The only documented 409 here is "PDF not generated yet".
            error = PennylanePdfNotReadyError(document, int(document_id))
            error.retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise error

    # -- billing subscriptions --------------------------------------------------------------------

    async def create_billing_subscription(self, data: BillingSubscriptionCreate) -> BillingSubscription:
        return await self._fetch(BillingSubscription, "POST", "/billing_subscriptions", body=data.body())

    async def get_billing_subscription(self, subscription_id: int) -> BillingSubscription:
        return await self._fetch(BillingSubscription, "GET", f"/billing_subscriptions/{int(subscription_id)}")

    async def update_billing_subscription(
        self, subscription_id: int, data: BillingSubscriptionUpdate
    ) -> BillingSubscription:
        path = f"/billing_subscriptions/{int(subscription_id)}"
        return await self._fetch(BillingSubscription, "PUT", path, body=data.body())

    async def list_billing_subscriptions(
        self,
        filters: Sequence[Filter] = (),
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort: str | None = None,
    ) -> Page[BillingSubscription]:
        """Filter on id, start, customer_id, status."""
        params = page_params(filters, cursor, limit, sort)
        return await self._fetch(Page[BillingSubscription], "GET", "/billing_subscriptions", params=params)

    # -- changelogs -------------------------------------------------------------------------------

    async def changelog_page(
        self,
        resource: ChangelogResource,
        *,
        start_date: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ChangeEntry]:
        """One page of changes, oldest `processed_at` first; without start_date nor cursor, the oldest
        retained changes."""
        params = changelog_params(start_date, cursor, limit, now=self._now())
        return await self._fetch(Page[ChangeEntry], "GET", f"/changelogs/{resource}", params=params)

    def changes(
        self,
        resource: ChangelogResource,
        *,
        start_date: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[ChangeEntry]:
        """Every change from `start_date` (or `cursor`) on, following `next_cursor` while `has_more`.

        Arguments are checked now, not at the first iteration. Persist the last `processed_at` seen and
        restart from it; a restart may replay the boundary entry, which is harmless as callers re-fetch.
        """
        self._require_token()
        first = changelog_params(start_date, cursor, limit, now=self._now())
        return self._iterate_changes(resource, first, limit)

    async def _iterate_changes(
        self, resource: ChangelogResource, params: dict[str, str], limit: int | None
    ) -> AsyncIterator[ChangeEntry]:
        path = f"/changelogs/{resource}"
        while True:
            page = await self._fetch(Page[ChangeEntry], "GET", path, params=params)
            for entry in page.items:
                yield entry
            if not page.has_more or not page.next_cursor:
                return
            params = changelog_params(None, page.next_cursor, limit, now=self._now())

    def customer_invoice_changes(
        self, *, start_date: dt.datetime | None = None, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ChangeEntry]:
        return self.changes("customer_invoices", start_date=start_date, cursor=cursor, limit=limit)

    def customer_changes(
        self, *, start_date: dt.datetime | None = None, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ChangeEntry]:
        return self.changes("customers", start_date=start_date, cursor=cursor, limit=limit)

    def quote_changes(
        self, *, start_date: dt.datetime | None = None, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ChangeEntry]:
        return self.changes("quotes", start_date=start_date, cursor=cursor, limit=limit)

    def product_changes(
        self, *, start_date: dt.datetime | None = None, cursor: str | None = None, limit: int | None = None
    ) -> AsyncIterator[ChangeEntry]:
        return self.changes("products", start_date=start_date, cursor=cursor, limit=limit)
