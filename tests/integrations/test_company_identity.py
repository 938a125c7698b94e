"""The company identity both lookups give: street-number ranges kept, the intra-community VAT number."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import respx

from integrations.company_lookup import CompanyLookup, vat_number

INSEE = "https://api.insee.fr/api-sirene/3.11"
RECHERCHE = "https://recherche-entreprises.api.gouv.fr"
INSEE_SIRET = "12000015300011"
GANYMEDE_SIRET = "88087814500015"


@pytest.mark.parametrize(
    ("siren", "vat"),
    [
        ("552032534", "FR27552032534"),  # Danone SA, as printed on its invoices and in VIES
        ("542107651", "FR13542107651"),  # Engie SA
        ("404833048", "FR83404833048"),  # the worked example most French VAT guides print
    ],
)
def test_vat_number_of_real_companies(siren: str, vat: str) -> None:
    assert vat_number(siren) == vat


def test_vat_number_refuses_what_is_not_a_siren() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        vat_number("12345")


async def test_insee_keeps_the_end_of_a_street_number_range(fixture_json: Callable[[str], Any]) -> None:
    body = copy.deepcopy(fixture_json("insee_sirene_siret_v3_response")["response"])
    address = body["etablissement"]["adresseEtablissement"]
    address.update(
        complementAdresseEtablissement=None,
        numeroVoieEtablissement="59",
        dernierNumeroVoieEtablissement="61",  # a Sirene 3.11 field
        typeVoieEtablissement="RUE",
        libelleVoieEtablissement="LA FAYETTE",
        codePostalEtablissement="75009",
        libelleCommuneEtablissement="PARIS 9",
    )
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{INSEE}/siret/{INSEE_SIRET}").respond(200, json=body)
        company = await CompanyLookup("insee-key").by_siret(INSEE_SIRET)
    assert company.address == "59-61 RUE LA FAYETTE, 75009 PARIS 9"
    assert company.address_lines == ["59-61 RUE LA FAYETTE"]
    assert company.vat_number == vat_number("120000153")


async def test_insee_without_a_range_and_with_a_complement(fixture_json: Callable[[str], Any]) -> None:
    body = fixture_json("insee_sirene_siret_v3_response")["response"]
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{INSEE}/siret/{INSEE_SIRET}").respond(200, json=body)
        company = await CompanyLookup("insee-key").by_siret(INSEE_SIRET)
    assert company.address_lines == ["10-18", "10 PLACE 5 MARTYRS LYCEE BUFFON"]


async def test_recherche_keeps_the_range_and_gives_the_vat(fixture_json: Callable[[str], Any]) -> None:
    body = copy.deepcopy(fixture_json("recherche_entreprises_search_by_siret")["response"])
    siege = body["results"][0]["siege"]
    siege.update(numero_voie="59", dernier_numero_voie="61", libelle_voie="LA FAYETTE", code_postal="75009")
    siege.update(libelle_commune="PARIS 9")
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=body)
        company = await CompanyLookup(None).by_siret(GANYMEDE_SIRET)
    assert company.address == "59-61 RUE LA FAYETTE, 75009 PARIS 9"
    assert company.address_lines == ["59-61 RUE LA FAYETTE"]
    assert company.vat_number == "FR09880878145"


async def test_recherche_formatted_address_keeps_its_range(fixture_json: Callable[[str], Any]) -> None:
    body = copy.deepcopy(fixture_json("recherche_entreprises_search_by_siret")["response"])
    result = body["results"][0]
    other = {
        **result["matching_etablissements"][0],
        "siret": "88087814500023",
        "adresse": "59-61 RUE LA FAYETTE 75009 PARIS 9",
        "code_postal": "75009",
        "libelle_commune": "PARIS 9",
    }
    result["matching_etablissements"] = [other]
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=body)
        company = await CompanyLookup().by_siret("88087814500023")
    assert company.address == "59-61 RUE LA FAYETTE 75009 PARIS 9"
    assert company.address_lines == ["59-61 RUE LA FAYETTE"]
