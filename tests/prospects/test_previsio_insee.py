"""The pre-visio SIRET looked up on INSEE Sirene when an INSEE key is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
import respx
from pydantic import SecretStr

from services.core.settings import Settings
from tests.prospects.conftest import Booked

INSEE_SIRET = "12000015300011"  # in tests/fixtures/insee_sirene_siret_v3_response.json


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"insee_api_key": SecretStr("insee-key")})


async def test_siret_found_on_insee(
    client: httpx.AsyncClient, sql: asyncpg.Connection, booked: Booked, fixture_json: Callable[[str], Any]
) -> None:
    body = fixture_json("insee_sirene_siret_v3_response")["response"]
    body["etablissement"]["adresseEtablissement"].update(
        numeroVoieEtablissement="59", dernierNumeroVoieEtablissement="61"
    )
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"https://api.insee.fr/api-sirene/3.11/siret/{INSEE_SIRET}").respond(200, json=body)
        response = await client.post(
            f"/api/v1/previsio/{booked.token}", json={"phone": "0612345678", "siret": INSEE_SIRET}
        )
    assert response.status_code == 200, response.text
    assert route.calls.last.request.headers["X-INSEE-Api-Key-Integration"] == "insee-key"
    company = response.json()["company"]
    assert (company["source"], company["lookup_status"], company["vat_number"]) == ("insee", "found", "FR06120000153")
    assert company["address_lines"] == ["10-18", "59-61 PLACE 5 MARTYRS LYCEE BUFFON"]
    assert (company["headcount_bracket"], company["creation_date"]) == ("32", "1997-06-11")
    saved = await sql.fetchrow("select * from client_companies where client_id = $1", booked.client_id)
    assert saved is not None and saved["legal_name"].startswith("DELEGATION GENERALE")
