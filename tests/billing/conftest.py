"""Billing against the real database; Pennylane mocked at the HTTP layer with its recorded payloads
(tests/fixtures/pennylane_*.json)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from services.core.jobs import registered_handlers
from services.core.settings import Settings
from services.core.worker import Worker
from tests.conftest import Tenant, User

BASE = "https://app.pennylane.com/api/external/v2"
API = "/api/v1/billing"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PDF_BYTES = b"%PDF-1.4 devis\n%%EOF\n"
IDENTITY: dict[str, Any] = {
    "kind": "company",
    "legal_name": "Alpha Studio SAS",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "billing_address": {"address": "59-61 rue La Fayette", "postal_code": "75009", "city": "Paris"},
    "emails": ["compta@alpha.example"],
}
FREE_LINE = {"label": "Atelier de cadrage", "quantity": "2", "unit_price": "400.00", "vat_rate": "FR_200"}


def recorded(name: str) -> Any:
    """The response of a recorded exchange (a deep copy, safe to edit)."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data.get("response", data))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"pennylane_api_token": SecretStr("pl-test-token")})


@pytest.fixture
def pennylane() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


async def run_jobs(app: Any) -> None:
    await Worker(app.state.job_context, registered_handlers()).run_pending()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def set_identity(client: httpx.AsyncClient, operator: User, tenant: Tenant, **changes: Any) -> Any:
    body = {**IDENTITY, **changes}
    return ok(await client.put(f"{API}/customers/{tenant.id}", json=body, headers=operator.headers))


def mock_customer_link(pennylane: respx.MockRouter) -> respx.Route:
    """No customer with this SIRET in Pennylane yet: the job creates it (recorded creation)."""
    pennylane.get("/customers").mock(return_value=httpx.Response(200, json={"items": [], "has_more": False}))
    return pennylane.post("/company_customers").mock(
        return_value=httpx.Response(200, json=recorded("pennylane_company_customer_create"))
    )
