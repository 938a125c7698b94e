"""Pennylane v2 client against recorded payloads (tests/fixtures) or payloads built to their shapes."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from integrations._http import RateLimiter
from integrations.errors import NotConfiguredError, NotFoundError, RequestError, TransientError
from integrations.pennylane import (
    Address,
    BillingSubscriptionCreate,
    ChangeEntry,
    CompanyCustomerCreate,
    CompanyCustomerUpdate,
    CustomerInvoiceCreate,
    Filter,
    IndividualCustomerCreate,
    IndividualCustomerUpdate,
    InvoiceLineInput,
    PennylaneClient,
    PennylanePdfNotReadyError,
    QuoteCreate,
)
from tests.integrations.fake_clock import Sleeper

BASE = "https://app.pennylane.com/api/external/v2"
PREFIX = "/api/external/v2"
TOKEN = "pl-test-token"
NOW = datetime(2026, 7, 8, 13, 0, tzinfo=UTC)  # the day the fixtures were recorded

Load = Callable[[str], Any]


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def client(sleeper: Sleeper) -> AsyncIterator[PennylaneClient]:
    async with PennylaneClient(TOKEN, sleep=sleeper, now=lambda: NOW) as pennylane:
        yield pennylane


def recorded(load: Load, name: str) -> tuple[str, dict[str, Any]]:
    """(path relative to the base URL, full fixture) of a recording."""
    data = load(name)
    path = data["_request"]["path"]
    assert path.startswith(PREFIX)
    return path.removeprefix(PREFIX), data


def sent(route: respx.Route, index: int = -1) -> httpx.Request:
    request: httpx.Request = route.calls[index].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    return request


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def sent_filter(request: httpx.Request) -> Any:
    return json.loads(request.url.params["filter"])


# -- customers ----------------------------------------------------------------------------------------


async def test_create_company_customer(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    path, rec = recorded(fixture_json, "pennylane_company_customer_create")
    route = mock.post(path).mock(return_value=httpx.Response(rec["_status"], json=rec["response"]))
    data = CompanyCustomerCreate(
        name="Test Company 2",
        billing_address=Address(address="456 Main St", postal_code="75002", city="Lyon", country_alpha2="FR"),
    )
    customer = await client.create_company_customer(data)

    request = sent(route)
    assert request.method == "POST"
    assert sent_json(request) == rec["_request"]["body"]
    assert customer.id == 1338658480128
    assert customer.customer_type == "company"
    assert customer.name == "Test Company 2"
    assert customer.billing_address is not None and customer.billing_address.city == "Lyon"
    assert customer.ledger_account is not None and customer.ledger_account.id == 14065926402048
    assert customer.external_reference == "019f41b3-2651-72e1-9c70-caf826184bec"
    assert customer.created_at == datetime(2026, 7, 8, 12, 28, 7, 637822, tzinfo=UTC)


async def test_create_individual_customer(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    path, rec = recorded(fixture_json, "pennylane_individual_customer_create")
    route = mock.post(path).mock(return_value=httpx.Response(201, json=rec["response"]))
    body = rec["_request"]["body"]
    customer = await client.create_individual_customer(IndividualCustomerCreate.model_validate(body))

    assert sent_json(sent(route)) == body
    assert customer.id == 1338647347200
    assert customer.customer_type == "individual"
    assert (customer.first_name, customer.last_name, customer.name) == ("Test", "User", "Test User")


async def test_list_customers_with_json_filter(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    rec = fixture_json("pennylane_customers_list")
    route = mock.get("/customers").mock(return_value=httpx.Response(200, json=rec["response"]))
    page = await client.list_customers(
        [
            Filter("customer_type", "eq", "company"),
            Filter("id", "in", [1338468995072, 1338478067712]),
            Filter("name", "start_with", "Acme"),
        ],
        cursor="abc",
        limit=50,
        sort="-id",
    )

    request = sent(route)
    assert request.method == "GET"
    assert request.url.params["cursor"] == "abc"
    assert request.url.params["limit"] == "50"
    assert request.url.params["sort"] == "-id"
    assert sent_filter(request) == [
        {"field": "customer_type", "operator": "eq", "value": "company"},
        {"field": "id", "operator": "in", "value": ["1338468995072", "1338478067712"]},
        {"field": "name", "operator": "start_with", "value": "Acme"},
    ]
    assert len(page.items) == 11 and page.has_more is False and page.next_cursor is None
    first = page.items[0]
    assert (first.customer_type, first.first_name, first.last_name) == ("individual", "Temp", "Customer")
    assert {c.customer_type for c in page.items} == {"company", "individual"}


async def test_get_customer(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    item = fixture_json("pennylane_customers_list")["response"]["items"][-1]
    route = mock.get(f"/customers/{item['id']}").mock(return_value=httpx.Response(200, json=item))
    customer = await client.get_customer(item["id"])
    assert sent(route).method == "GET"
    assert customer.id == 1338468995072 and customer.notes == "Updated via Nango action"


async def test_get_typed_customers(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    company = fixture_json("pennylane_company_customer_create")["response"]
    person = fixture_json("pennylane_individual_customer_create")["response"]
    mock.get(f"/company_customers/{company['id']}").mock(return_value=httpx.Response(200, json=company))
    mock.get(f"/individual_customers/{person['id']}").mock(return_value=httpx.Response(200, json=person))
    assert (await client.get_company_customer(company["id"])).customer_type == "company"
    assert (await client.get_individual_customer(person["id"])).customer_type == "individual"


async def test_update_customers_send_only_the_given_fields(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    company = fixture_json("pennylane_company_customer_create")["response"]
    person = fixture_json("pennylane_individual_customer_create")["response"]
    company_route = mock.put(f"/company_customers/{company['id']}").mock(
        return_value=httpx.Response(200, json={**company, "notes": "VIP", "emails": ["a@b.fr"]})
    )
    person_route = mock.put(f"/individual_customers/{person['id']}").mock(
        return_value=httpx.Response(200, json={**person, "phone": "+33600000000"})
    )

    updated = await client.update_company_customer(company["id"], CompanyCustomerUpdate(notes="VIP", emails=["a@b.fr"]))
    assert sent_json(sent(company_route)) == {"notes": "VIP", "emails": ["a@b.fr"]}
    assert updated.notes == "VIP" and updated.emails == ["a@b.fr"]

    await client.update_individual_customer(person["id"], IndividualCustomerUpdate(phone="+33600000000"))
    assert sent_json(sent(person_route)) == {"phone": "+33600000000"}


# -- products -----------------------------------------------------------------------------------------


async def test_get_product(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    path, rec = recorded(fixture_json, "pennylane_product_get")
    route = mock.get(path).mock(return_value=httpx.Response(200, json=rec["response"]))
    product = await client.get_product(87538491392)

    assert sent(route).method == "GET"
    assert product.label == "Consulting Services"
    assert product.price == Decimal("600.0") and isinstance(product.price, Decimal)
    assert product.price_before_tax == Decimal("500.0")
    assert (product.vat_rate, product.unit, product.currency) == ("FR_200", "piece", "EUR")
    assert product.ledger_account is None


async def test_list_products(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    product = fixture_json("pennylane_product_get")["response"]
    payload = {"items": [product], "has_more": True, "next_cursor": "cHJvZHVjdHM="}
    route = mock.get("/products").mock(return_value=httpx.Response(200, json=payload))
    page = await client.list_products([Filter("label", "start_with", "Consult")], limit=100)

    request = sent(route)
    assert sent_filter(request) == [{"field": "label", "operator": "start_with", "value": "Consult"}]
    assert request.url.params["limit"] == "100"
    assert page.has_more is True and page.next_cursor == "cHJvZHVjdHM="
    assert page.items[0].id == 87538491392


async def test_page_limit_is_checked(client: PennylaneClient) -> None:
    with pytest.raises(ValueError):
        await client.list_products(limit=101)


# -- quotes -------------------------------------------------------------------------------------------


async def test_create_quote(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    path, rec = recorded(fixture_json, "pennylane_quote_create")
    route = mock.post(path).mock(return_value=httpx.Response(201, json=rec["response"]))
    data = QuoteCreate(
        customer_id=1338468995072,
        date=date(2026, 7, 8),
        deadline=date(2026, 7, 15),
        invoice_lines=[
            InvoiceLineInput(product_id=87538491392, quantity=Decimal(2), raw_currency_unit_price=Decimal("500.00"))
        ],
    )
    quote = await client.create_quote(data)

    # Byte-for-byte the live request: quantity a JSON number, the price a decimal string.
    assert sent_json(sent(route)) == rec["_request"]["body"]
    assert quote.id == 25471750471680 and quote.status == "pending"
    assert quote.amount == Decimal("1200.0") and quote.currency_amount_before_tax == Decimal("1000.0")
    assert quote.customer is not None and quote.customer.id == 1338468995072
    assert quote.deadline == date(2026, 7, 15)


async def test_get_and_list_quotes(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    quote = fixture_json("pennylane_quote_create")["response"]
    mock.get(f"/quotes/{quote['id']}").mock(return_value=httpx.Response(200, json=quote))
    list_route = mock.get("/quotes").mock(
        return_value=httpx.Response(200, json={"items": [quote], "has_more": False, "next_cursor": None})
    )
    assert (await client.get_quote(quote["id"])).quote_number == "0"

    page = await client.list_quotes(
        [Filter("customer_id", "eq", 1338468995072), Filter("status", "in", ["pending", "accepted"])]
    )
    assert sent_filter(sent(list_route)) == [
        {"field": "customer_id", "operator": "eq", "value": "1338468995072"},
        {"field": "status", "operator": "in", "value": ["pending", "accepted"]},
    ]
    assert [q.id for q in page.items] == [quote["id"]]


async def test_update_quote_status(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    path, rec = recorded(fixture_json, "pennylane_quote_update_status")
    route = mock.put(path).mock(return_value=httpx.Response(200, json=rec["response"]))
    quote = await client.update_quote_status(25461979840512, "accepted")
    assert sent_json(sent(route)) == rec["_request"]["body"] == {"status": "accepted"}
    assert quote.status == "accepted"


async def test_send_quote_by_email(mock: respx.MockRouter, client: PennylaneClient) -> None:
    route = mock.post("/quotes/25461979840512/send_by_email").mock(return_value=httpx.Response(204))
    await client.send_quote_by_email(25461979840512, ["client@example.com"])
    assert sent_json(sent(route)) == {"recipients": ["client@example.com"]}


async def test_send_quote_by_email_pdf_not_ready(mock: respx.MockRouter, client: PennylaneClient) -> None:
    route = mock.post("/quotes/25461979840512/send_by_email").mock(
        return_value=httpx.Response(409, json={"error": "PDF not generated yet"})
    )
    with pytest.raises(PennylanePdfNotReadyError) as caught:
        await client.send_quote_by_email(25461979840512, ["client@example.com"])
    assert isinstance(caught.value, TransientError)
    assert caught.value.status_code == 409 and caught.value.document_id == 25461979840512
    assert route.call_count == 1


# -- customer invoices --------------------------------------------------------------------------------


async def test_create_draft_customer_invoice(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    path, rec = recorded(fixture_json, "pennylane_customer_invoice_create")
    route = mock.post(path).mock(return_value=httpx.Response(rec["_status"], json=rec["response"]))
    data = CustomerInvoiceCreate(
        customer_id=1338468995072,
        date=date(2026, 7, 8),
        deadline=date(2026, 7, 31),
        draft=True,
        invoice_lines=[InvoiceLineInput(product_id=87538491392, quantity=Decimal(2))],
    )
    invoice = await client.create_customer_invoice(data)

    assert sent_json(sent(route)) == rec["_request"]["body"]
    assert invoice.id == 25465420529664 and invoice.id > 2**31
    assert invoice.draft is True and invoice.status == "draft" and invoice.invoice_number == ""
    assert invoice.amount == Decimal("1200.0") and invoice.tax == Decimal("200.0")
    assert invoice.remaining_amount_with_tax is None
    assert invoice.discount is not None and invoice.discount.value == Decimal("0.0")


async def test_create_finalized_invoice_with_a_free_line(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    response = fixture_json("pennylane_customer_invoice_get_finalized_upcoming")["response"]
    route = mock.post("/customer_invoices").mock(return_value=httpx.Response(201, json=response))
    data = CustomerInvoiceCreate(
        customer_id=1338468995072,
        date=date(2026, 7, 8),
        deadline=date(2026, 8, 15),
        draft=False,
        label="Accompagnement juillet",
        invoice_lines=[
            InvoiceLineInput(
                label="Coaching",
                quantity=Decimal("1.5"),
                raw_currency_unit_price=Decimal("333.33"),
                unit="hour",
                vat_rate="FR_200",
            )
        ],
    )
    invoice = await client.create_customer_invoice(data)
    assert sent_json(sent(route)) == {
        "customer_id": 1338468995072,
        "date": "2026-07-08",
        "deadline": "2026-08-15",
        "draft": False,
        "label": "Accompagnement juillet",
        "invoice_lines": [
            {
                "label": "Coaching",
                "quantity": 1.5,
                "raw_currency_unit_price": "333.33",
                "unit": "hour",
                "vat_rate": "FR_200",
            }
        ],
    }
    assert invoice.draft is False and invoice.invoice_number == "TEST-001"


async def test_create_customer_invoice_from_quote(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    response = copy.deepcopy(fixture_json("pennylane_customer_invoice_get_draft")["response"])
    response["quote"] = {"id": 25465737265152}
    route = mock.post("/customer_invoices/create_from_quote").mock(return_value=httpx.Response(201, json=response))
    invoice = await client.create_customer_invoice_from_quote(25465737265152)
    assert sent_json(sent(route)) == {"quote_id": 25465737265152, "draft": True}
    assert invoice.quote is not None and invoice.quote.id == 25465737265152


@pytest.mark.parametrize(
    ("name", "draft", "status", "remaining"),
    [
        ("pennylane_customer_invoice_get_draft", True, "draft", None),
        ("pennylane_customer_invoice_get_finalized_upcoming", False, "upcoming", Decimal("600.0")),
    ],
)
async def test_get_customer_invoice(
    mock: respx.MockRouter,
    client: PennylaneClient,
    fixture_json: Load,
    name: str,
    draft: bool,
    status: str,
    remaining: Decimal | None,
) -> None:
    path, rec = recorded(fixture_json, name)
    route = mock.get(path).mock(return_value=httpx.Response(200, json=rec["response"]))
    invoice = await client.get_customer_invoice(rec["response"]["id"])
    assert sent(route).method == "GET"
    assert (invoice.draft, invoice.status, invoice.remaining_amount_with_tax) == (draft, status, remaining)
    assert invoice.amount == Decimal("600.0") and invoice.currency_amount_before_tax == Decimal("500.0")
    assert invoice.public_file_url is not None and invoice.public_file_url.startswith("https://app.pennylane.com/")
    assert invoice.customer is not None and invoice.customer.id == 1338468995072
    assert invoice.billing_subscription is None and invoice.e_invoicing is None


async def test_list_customer_invoices_with_filters(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    rec = fixture_json("pennylane_customer_invoices_list")
    route = mock.get("/customer_invoices").mock(return_value=httpx.Response(200, json=rec["response"]))
    page = await client.list_customer_invoices(
        [
            Filter("customer_id", "eq", 1338468995072),
            Filter("draft", "eq", False),
            Filter("date", "gteq", date(2026, 7, 1)),
        ],
        sort="-date",
        limit=20,
    )
    request = sent(route)
    assert sent_filter(request) == [
        {"field": "customer_id", "operator": "eq", "value": "1338468995072"},
        {"field": "draft", "operator": "eq", "value": "false"},
        {"field": "date", "operator": "gteq", "value": "2026-07-01"},
    ]
    assert request.url.params["sort"] == "-date" and request.url.params["limit"] == "20"
    assert len(page.items) == 9 and not page.has_more
    assert page.items[0].quote is not None and page.items[0].quote.id == 25461979840512
    assert all(isinstance(i.amount, Decimal) for i in page.items)


async def test_finalize_customer_invoice(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    finalized = fixture_json("pennylane_customer_invoice_get_finalized_upcoming")["response"]
    route = mock.put(f"/customer_invoices/{finalized['id']}/finalize").mock(
        return_value=httpx.Response(200, json=finalized)
    )
    invoice = await client.finalize_customer_invoice(finalized["id"])
    assert sent(route).method == "PUT"
    assert invoice.draft is False and invoice.invoice_number == "TEST-001"


async def test_finalize_without_a_body_rereads_the_invoice(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    finalized = fixture_json("pennylane_customer_invoice_get_finalized_upcoming")["response"]
    mock.put(f"/customer_invoices/{finalized['id']}/finalize").mock(return_value=httpx.Response(204))
    mock.get(f"/customer_invoices/{finalized['id']}").mock(return_value=httpx.Response(200, json=finalized))
    assert (await client.finalize_customer_invoice(finalized["id"])).status == "upcoming"


async def test_finalize_is_not_retried_on_503(mock: respx.MockRouter, client: PennylaneClient) -> None:
    route = mock.put("/customer_invoices/1/finalize").mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError):
        await client.finalize_customer_invoice(1)
    assert route.call_count == 1


async def test_mark_customer_invoice_as_paid(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    path, rec = recorded(fixture_json, "pennylane_customer_invoice_mark_as_paid_204")
    route = mock.put(path).mock(return_value=httpx.Response(rec["_status"]))
    await client.mark_customer_invoice_as_paid(25465638002688)
    request = sent(route)
    assert request.method == "PUT" and request.content == b""


async def test_send_customer_invoice_by_email(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    path, rec = recorded(fixture_json, "pennylane_customer_invoice_send_by_email_204")
    route = mock.post(path).mock(return_value=httpx.Response(rec["_status"]))
    await client.send_customer_invoice_by_email(25465638002688, ["test@example.com"])
    assert sent_json(sent(route)) == rec["_request"]["body"]


async def test_send_customer_invoice_by_email_pdf_not_ready(
    mock: respx.MockRouter, client: PennylaneClient, sleeper: Sleeper
) -> None:
    route = mock.post("/customer_invoices/25465638002688/send_by_email").mock(
        return_value=httpx.Response(409, json={"status": 409, "error": "PDF not ready"})
    )
    with pytest.raises(PennylanePdfNotReadyError) as caught:
        await client.send_customer_invoice_by_email(25465638002688, ["test@example.com"])
    assert caught.value.vendor == "pennylane" and caught.value.document_id == 25465638002688
    assert route.call_count == 1 and sleeper.sleeps == []  # the caller's job queue retries, not us


async def test_list_customer_invoice_lines(mock: respx.MockRouter, client: PennylaneClient) -> None:
    # Shape of a live /customer_invoices/{id}/invoice_lines answer (NangoHQ recording, not in fixtures/).
    payload = {
        "items": [
            {
                "id": 3327743332352,
                "label": "Consulting Services",
                "unit": "piece",
                "quantity": "1.0",
                "amount": "600.0",
                "currency_amount": "600.0",
                "vat_rate": "FR_200",
                "tax": "100.0",
                "currency_tax": "100.0",
                "raw_currency_unit_price": "500.0",
                "created_at": "2026-07-08T12:06:19.367589Z",
                "updated_at": "2026-07-08T12:06:19.367024Z",
                "description": "",
                "currency_amount_before_tax": "500.0",
                "section_rank": 0,
                "discount": {"type": "relative", "value": "0.0"},
                "product": {"id": 87538491392, "url": f"{BASE}/products/87538491392"},
                "imputation_dates": None,
            }
        ],
        "has_more": False,
        "next_cursor": None,
    }
    route = mock.get("/customer_invoices/25461646082048/invoice_lines").mock(
        return_value=httpx.Response(200, json=payload)
    )
    page = await client.list_customer_invoice_lines(25461646082048, limit=100)
    assert sent(route).url.params["limit"] == "100"
    [line] = page.items
    assert line.quantity == Decimal("1.0") and line.raw_currency_unit_price == Decimal("500.0")
    assert line.product is not None and line.product.id == 87538491392
    assert line.vat_rate == "FR_200" and line.section_rank == 0


async def test_quote_invoice_lines(mock: respx.MockRouter, client: PennylaneClient) -> None:
    route = mock.get("/quotes/25471750471680/invoice_lines").mock(
        return_value=httpx.Response(200, json={"items": [], "has_more": False, "next_cursor": None})
    )
    assert (await client.list_quote_invoice_lines(25471750471680)).items == []
    assert sent(route).method == "GET"


async def test_json_numbers_become_exact_decimals(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    invoice = fixture_json("pennylane_customer_invoice_get_draft")["response"]
    text = json.dumps({**invoice, "amount": "__AMOUNT__"}).replace('"__AMOUNT__"', "0.1")
    mock.get(f"/customer_invoices/{invoice['id']}").mock(
        return_value=httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/json"})
    )
    parsed = await client.get_customer_invoice(invoice["id"])
    assert parsed.amount == Decimal("0.1")  # not Decimal(0.1) == 0.1000000000000000055...


# -- billing subscriptions ----------------------------------------------------------------------------


async def test_create_billing_subscription(mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load) -> None:
    example = fixture_json("pennylane_billing_subscription_create_request_docexample")
    route = mock.post("/billing_subscriptions").mock(return_value=httpx.Response(201, json=example["response_excerpt"]))
    data = BillingSubscriptionCreate.model_validate(example["request"])
    subscription = await client.create_billing_subscription(data)

    assert sent_json(sent(route)) == example["request"]
    assert subscription.id == 42 and subscription.status == "draft"
    assert subscription.mode == "awaiting_validation"
    assert subscription.start == date(2023, 1, 1) and subscription.finish == date(2023, 12, 31)
    assert subscription.recurring_rule is not None and subscription.recurring_rule.rule_type == "monthly"
    assert subscription.customer is not None and subscription.customer.id == 42


async def test_get_and_list_billing_subscriptions(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    excerpt = fixture_json("pennylane_billing_subscription_create_request_docexample")["response_excerpt"]
    mock.get("/billing_subscriptions/42").mock(return_value=httpx.Response(200, json=excerpt))
    # The live list answer of an account without subscriptions.
    list_route = mock.get("/billing_subscriptions").mock(
        return_value=httpx.Response(200, json={"items": [], "has_more": False, "next_cursor": None})
    )
    assert (await client.get_billing_subscription(42)).payment_method == "offline"
    page = await client.list_billing_subscriptions([Filter("customer_id", "eq", 42)])
    assert page.items == [] and page.has_more is False
    assert sent_filter(sent(list_route)) == [{"field": "customer_id", "operator": "eq", "value": "42"}]


# -- changelogs ---------------------------------------------------------------------------------------


async def test_customer_invoice_changes_follow_the_cursor(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    path, rec = recorded(fixture_json, "pennylane_changelog_customer_invoices")
    second_page = {
        "items": [
            {
                "id": 25465420529664,
                "operation": "delete",
                "created_at": "2026-07-08T12:24:22.158515Z",
                "updated_at": "2026-07-08T12:30:01.000000Z",
                "processed_at": "2026-07-08T12:30:01.500000Z",
            }
        ],
        "has_more": False,
        "next_cursor": None,
    }
    route = mock.get(path).mock(
        side_effect=[httpx.Response(200, json=rec["response"]), httpx.Response(200, json=second_page)]
    )
    entries = [
        entry async for entry in client.customer_invoice_changes(start_date=datetime(2026, 7, 8, tzinfo=UTC), limit=5)
    ]

    first, second = sent(route, 0), sent(route, 1)
    assert dict(first.url.params) == rec["_request"]["query"] == {"limit": "5", "start_date": "2026-07-08T00:00:00Z"}
    assert dict(second.url.params) == {"cursor": "MjAyNi0wNy0wOFQxMjowNjo0NC44ODM1NzZa", "limit": "5"}
    assert all(isinstance(e, ChangeEntry) for e in entries)
    assert [(e.id, e.operation) for e in entries] == [
        (25461646082048, "insert"),
        (25461646082048, "update"),
        (25461862449152, "insert"),
        (25461862449152, "update"),
        (25461862449152, "update"),
        (25465420529664, "delete"),
    ]
    assert entries[-1].processed_at == datetime(2026, 7, 8, 12, 30, 1, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "resource"),
    [
        ("customer_changes", "customers"),
        ("quote_changes", "quotes"),
        ("product_changes", "products"),
    ],
)
async def test_other_changelogs(mock: respx.MockRouter, client: PennylaneClient, method: str, resource: str) -> None:
    page = {
        "items": [
            {
                "id": 1338468995072,
                "operation": "update",
                "created_at": "2026-07-08T12:02:49.184274Z",
                "updated_at": "2026-07-08T12:37:45.185229Z",
                "processed_at": "2026-07-08T12:37:46.000000Z",
            }
        ],
        "has_more": False,
        "next_cursor": None,
    }
    route = mock.get(f"/changelogs/{resource}").mock(return_value=httpx.Response(200, json=page))
    entries = [e async for e in getattr(client, method)(cursor="Y3Vyc29y")]
    assert dict(sent(route).url.params) == {"cursor": "Y3Vyc29y"}
    assert [e.id for e in entries] == [1338468995072]


async def test_changelog_page_exposes_the_cursor(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    rec = fixture_json("pennylane_changelog_customer_invoices")
    route = mock.get("/changelogs/customer_invoices").mock(return_value=httpx.Response(200, json=rec["response"]))
    page = await client.changelog_page("customer_invoices")
    assert dict(sent(route).url.params) == {}  # no start: the oldest retained changes
    assert page.has_more and page.next_cursor == "MjAyNi0wNy0wOFQxMjowNjo0NC44ODM1NzZa"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_date": NOW - timedelta(days=1), "cursor": "abc"},  # Pennylane answers 400
        {"start_date": NOW - timedelta(weeks=4, seconds=1)},  # Pennylane answers 422
        {"start_date": datetime(2026, 7, 8)},  # naive
        {"limit": 0},
        {"limit": 1001},
    ],
)
async def test_changelog_arguments_are_checked_before_any_request(
    client: PennylaneClient, kwargs: dict[str, Any]
) -> None:
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(ValueError):
            client.customer_invoice_changes(**kwargs)  # eagerly, not at the first iteration
        with pytest.raises(ValueError):
            await client.changelog_page("quotes", **kwargs)
        assert not router.calls


async def test_changelog_start_within_four_weeks_is_accepted(mock: respx.MockRouter, client: PennylaneClient) -> None:
    route = mock.get("/changelogs/products").mock(
        return_value=httpx.Response(200, json={"items": [], "has_more": False, "next_cursor": None})
    )
    start = (NOW - timedelta(weeks=4) + timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Paris"))
    assert [e async for e in client.product_changes(start_date=start)] == []
    assert sent(route).url.params["start_date"] == "2026-06-10T13:01:00Z"  # sent in UTC


# -- not configured, errors, rate limits --------------------------------------------------------------

CALLS: list[Callable[[PennylaneClient], Awaitable[Any]]] = [
    lambda c: c.me(),
    lambda c: c.list_customers(),
    lambda c: c.get_customer(1),
    lambda c: c.create_company_customer(CompanyCustomerCreate(name="A", billing_address=Address())),
    lambda c: c.update_company_customer(1, CompanyCustomerUpdate(name="B")),
    lambda c: c.create_individual_customer(
        IndividualCustomerCreate(first_name="A", last_name="B", billing_address=Address())
    ),
    lambda c: c.get_product(1),
    lambda c: c.list_products(),
    lambda c: c.get_quote(1),
    lambda c: c.update_quote_status(1, "accepted"),
    lambda c: c.send_quote_by_email(1, ["a@b.fr"]),
    lambda c: c.get_customer_invoice(1),
    lambda c: c.list_customer_invoices(),
    lambda c: c.create_customer_invoice_from_quote(1),
    lambda c: c.finalize_customer_invoice(1),
    lambda c: c.mark_customer_invoice_as_paid(1),
    lambda c: c.send_customer_invoice_by_email(1, ["a@b.fr"]),
    lambda c: c.list_customer_invoice_lines(1),
    lambda c: c.get_billing_subscription(1),
    lambda c: c.list_billing_subscriptions(),
    lambda c: c.changelog_page("customers"),
]


@pytest.mark.parametrize("token", [None, ""])
async def test_not_configured_names_the_setting(token: str | None) -> None:
    async with PennylaneClient(token) as unconfigured:
        assert unconfigured.configured is False
        with respx.mock(assert_all_called=False) as router:
            for call in CALLS:
                with pytest.raises(NotConfiguredError) as caught:
                    await call(unconfigured)
                assert caught.value.setting == "PENNYLANE_API_TOKEN"
                assert "PENNYLANE_API_TOKEN" in str(caught.value)
            with pytest.raises(NotConfiguredError):
                unconfigured.customer_invoice_changes()
            assert not router.calls


async def test_validation_error_carries_pennylane_message(mock: respx.MockRouter, client: PennylaneClient) -> None:
    body = {
        "error": "unprocessable_entity",
        "message": "Missing required field: customer_id",
        "details": {"field": "customer_id", "issue": "is required"},
    }
    route = mock.post("/customer_invoices").mock(return_value=httpx.Response(422, json=body))
    data = CustomerInvoiceCreate(
        customer_id=1, date=date(2026, 7, 8), deadline=date(2026, 7, 31), draft=True, invoice_lines=[]
    )
    with pytest.raises(RequestError) as caught:
        await client.create_customer_invoice(data)
    assert caught.value.vendor == "pennylane" and caught.value.status_code == 422
    assert caught.value.vendor_message == "Missing required field: customer_id"
    assert caught.value.body == body
    assert route.call_count == 1


async def test_not_found_with_the_observed_error_shape(
    mock: respx.MockRouter, client: PennylaneClient, fixture_json: Load
) -> None:
    rec = fixture_json("pennylane_error_404")
    mock.get("/customer_invoices/404").mock(return_value=httpx.Response(rec["_status"], json=rec["response"]))
    with pytest.raises(NotFoundError) as caught:
        await client.get_customer_invoice(404)
    assert caught.value.vendor_message == "No Pro Account associated with the company"


async def test_429_waits_for_pennylane_retry_after(
    mock: respx.MockRouter, client: PennylaneClient, sleeper: Sleeper, fixture_json: Load
) -> None:
    product = fixture_json("pennylane_product_get")["response"]
    throttled = httpx.Response(
        429,
        text="Rate limit exceeded. Please retry in 2 seconds.",
        headers={
            "retry-after": "2",
            "ratelimit-limit": "25",
            "ratelimit-remaining": "0",
            "ratelimit-reset": "1770379510",
        },
    )
    route = mock.get("/products/87538491392").mock(side_effect=[throttled, httpx.Response(200, json=product)])
    assert (await client.get_product(87538491392)).id == 87538491392
    assert route.call_count == 2 and sleeper.sleeps == [2.0]


async def test_rate_limit_holds_the_26th_request(mock: respx.MockRouter, fixture_json: Load) -> None:
    class Clock:
        now = 0.0

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        Clock.now += seconds

    default = PennylaneClient(TOKEN)
    limiter = default._http.limiter
    assert limiter is not None and limiter.max_calls <= 25 and limiter.period >= 5.0
    await default.aclose()

    product = fixture_json("pennylane_product_get")["response"]
    mock.get("/products/87538491392").mock(return_value=httpx.Response(200, json=product))
    limited = RateLimiter(limiter.max_calls, limiter.period, clock=lambda: Clock.now, sleep=sleep)
    async with PennylaneClient(TOKEN, limiter=limited, sleep=sleep) as pennylane:
        for _ in range(26):
            await pennylane.get_product(87538491392)
    assert len(sleeps) >= 1 and sum(sleeps) == pytest.approx(5.0)
