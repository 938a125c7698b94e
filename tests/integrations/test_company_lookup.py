"""Company lookup: INSEE Sirene 3.11 and recherche-entreprises behind one `Company` (respx + fixtures)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
import respx

from integrations.company_lookup import (
    CompanyLookup,
    InseeSireneClient,
    RechercheEntreprisesClient,
    company_from_insee,
    format_address,
    normalize_siren,
    normalize_siret,
)
from integrations.errors import IntegrationError, NotFoundError, RequestError
from tests.integrations.fake_clock import on_fake_time

INSEE = "https://api.insee.fr/api-sirene/3.11"
RECHERCHE = "https://recherche-entreprises.api.gouv.fr"
INSEE_SIRET = "12000015300011"
GANYMEDE_SIRET = "88087814500015"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def insee_siret(fixture_json: Callable[[str], Any]) -> dict[str, Any]:
    payload: dict[str, Any] = fixture_json("insee_sirene_siret_v3_response")["response"]
    return payload


@pytest.fixture
def recherche_siret(fixture_json: Callable[[str], Any]) -> dict[str, Any]:
    payload: dict[str, Any] = fixture_json("recherche_entreprises_search_by_siret")["response"]
    return payload


# ---------------------------------------------------------------------------------------------- INSEE


async def test_insee_by_siret(insee_siret: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{INSEE}/siret/{INSEE_SIRET}").respond(200, json=insee_siret)
        company = await CompanyLookup("insee-key").by_siret(INSEE_SIRET)
    request = route.calls.last.request
    assert request.headers["X-INSEE-Api-Key-Integration"] == "insee-key"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers
    assert company.source == "insee"
    assert company.siren == "120000153"
    assert company.siret == INSEE_SIRET
    assert company.legal_name == "DELEGATION GENERALE A L'EMPLOI ET A LA FORMATION PROFESSIONNELLE"
    assert company.acronym == "DGEFP"
    assert company.address == "10-18, 10 PLACE 5 MARTYRS LYCEE BUFFON, 75015 PARIS 15"
    assert (company.postal_code, company.city) == ("75015", "PARIS 15")
    assert company.naf_code == "84.13Z"
    assert company.legal_category == "7120"
    assert company.creation_date == date(1997, 6, 11)
    assert company.headcount_bracket == "32"
    assert company.headcount_label == "250 à 499 salariés"
    assert company.is_head_office is True
    assert company.active is True
    assert company.closed_on is None
    assert company.diffusion == "public"


async def test_insee_by_siren_reads_the_head_office(insee_siret: dict[str, Any]) -> None:
    search = {
        "header": {"statut": 200, "message": "OK", "total": 1, "debut": 0, "nombre": 1},
        "etablissements": [insee_siret["etablissement"]],
    }
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{INSEE}/siret").respond(200, json=search)
        company = await CompanyLookup("insee-key").by_siren("120 000 153")
    params = route.calls.last.request.url.params
    assert params["q"] == "siren:120000153 AND etablissementSiege:true"
    assert params["nombre"] == "1"
    assert company.siren == "120000153"
    assert company.siret == INSEE_SIRET
    assert company.is_head_office is True
    assert company.address is not None


async def test_insee_unknown_siret_is_not_found(fixture_json: Callable[[str], Any]) -> None:
    body = fixture_json("insee_sirene_error_404")
    body.pop("_source")
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{INSEE}/siret/12345678900011").respond(404, json=body)
        with pytest.raises(NotFoundError) as info:
            await CompanyLookup("insee-key").by_siret("12345678900011")
    assert info.value.vendor == "insee"
    assert info.value.vendor_message == "Aucun élément trouvé pour le siret 12345678900011"


async def test_insee_4xx_carries_the_header_message() -> None:
    body = {"header": {"statut": 403, "message": "Établissement non diffusable (12345678900011)"}}
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{INSEE}/siret/12345678900011").respond(403, json=body)
        with pytest.raises(RequestError) as info:
            await CompanyLookup("insee-key").by_siret("12345678900011")
    assert info.value.status_code == 403
    assert info.value.vendor_message == "Établissement non diffusable (12345678900011)"


async def test_insee_429_is_retried() -> None:
    client = InseeSireneClient("insee-key", sleep=_no_sleep)
    body = {
        "header": {"statut": 200, "message": "OK"},
        "etablissement": {"siren": "120000153", "siret": INSEE_SIRET, "uniteLegale": {}},
    }
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{INSEE}/siret/{INSEE_SIRET}")
        route.side_effect = [httpx.Response(429), httpx.Response(200, json=body)]
        company = await client.by_siret(INSEE_SIRET)
    assert route.call_count == 2
    assert company.legal_name is None


def test_insee_partially_diffusible_unit_is_masked_not_crashing(insee_siret: dict[str, Any]) -> None:
    # UNVERIFIED masking: a sole trader with statutDiffusion "P" and "[ND]" in the protected fields.
    etab = copy.deepcopy(insee_siret["etablissement"])
    etab["statutDiffusionEtablissement"] = "P"
    etab["uniteLegale"].update(
        {
            "statutDiffusionUniteLegale": "P",
            "denominationUniteLegale": None,
            "sigleUniteLegale": "[ND]",
            "prenom1UniteLegale": "[ND]",
            "nomUniteLegale": "[ND]",
            "dateCreationUniteLegale": "[ND]",
        }
    )
    etab["adresseEtablissement"].update(
        {
            "complementAdresseEtablissement": "[ND]",
            "numeroVoieEtablissement": "[ND]",
            "typeVoieEtablissement": "[ND]",
            "libelleVoieEtablissement": "[ND]",
        }
    )
    etab["dateCreationEtablissement"] = "[ND]"
    company = company_from_insee(etab, by="siret")
    assert company.diffusion == "partial"
    assert company.legal_name is None
    assert company.acronym is None
    assert company.address == "75015 PARIS 15"
    assert company.creation_date is None
    assert company.naf_code == "84.13Z"


def test_insee_sole_trader_name_is_first_and_last_name(insee_siret: dict[str, Any]) -> None:
    etab = copy.deepcopy(insee_siret["etablissement"])
    etab["uniteLegale"].update(
        {
            "denominationUniteLegale": None,
            "sigleUniteLegale": None,
            "prenom1UniteLegale": "MARIE",
            "prenomUsuelUniteLegale": None,
            "nomUniteLegale": "DUPONT",
            "nomUsageUniteLegale": None,
        }
    )
    assert company_from_insee(etab, by="siret").legal_name == "MARIE DUPONT"
    etab["uniteLegale"]["nomUsageUniteLegale"] = "MARTIN"
    assert company_from_insee(etab, by="siret").legal_name == "MARIE MARTIN"


def test_insee_closed_establishment(insee_siret: dict[str, Any]) -> None:
    etab = copy.deepcopy(insee_siret["etablissement"])
    etab["periodesEtablissement"][0]["etatAdministratifEtablissement"] = "F"
    etab["periodesEtablissement"][0]["dateDebut"] = "2021-03-31"
    company = company_from_insee(etab, by="siret")
    assert company.active is False
    assert company.closed_on == date(2021, 3, 31)


def test_insee_rate_limit_is_30_per_minute() -> None:
    limiter = InseeSireneClient("k").http.limiter
    assert limiter is not None
    assert (limiter.max_calls, limiter.period) == (30, 60.0)


async def test_insee_31st_call_in_a_minute_waits(insee_siret: dict[str, Any]) -> None:
    client = InseeSireneClient("k")
    fake = on_fake_time(client.http.limiter)
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{INSEE}/siret/{INSEE_SIRET}").respond(200, json=insee_siret)
        for _ in range(30):
            await client.by_siret(INSEE_SIRET)
            fake.now += 1.0
        assert fake.sleeps == []
        await client.by_siret(INSEE_SIRET)  # t=30: the first call (t=0) leaves the window at t=60
    assert fake.sleeps == [30.0]
    assert route.call_count == 31


async def test_insee_success_without_etablissement_is_a_vendor_error() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{INSEE}/siret/{INSEE_SIRET}").respond(200, json={"header": {"statut": 200, "message": "OK"}})
        with pytest.raises(IntegrationError) as info:
            await CompanyLookup("insee-key").by_siret(INSEE_SIRET)
    assert type(info.value) is IntegrationError
    assert info.value.vendor == "insee"


# ------------------------------------------------------------------------------------ recherche-entreprises


async def test_recherche_by_siret(recherche_siret: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{RECHERCHE}/search").respond(200, json=recherche_siret)
        company = await CompanyLookup(None).by_siret(GANYMEDE_SIRET)
    request = route.calls.last.request
    assert dict(request.url.params) == {"q": GANYMEDE_SIRET, "page": "1", "per_page": "1"}
    assert request.headers["User-Agent"].startswith("Foxeo")
    assert "X-INSEE-Api-Key-Integration" not in request.headers
    assert company.source == "recherche-entreprises"
    assert company.siren == "880878145"
    assert company.siret == GANYMEDE_SIRET
    assert company.legal_name == "GANYMEDE"
    assert company.address == "128 RUE LA BOETIE, 75008 PARIS 8"
    assert company.naf_code == "62.02A"
    assert company.legal_category == "5710"
    assert company.creation_date == date(2020, 1, 13)
    assert company.headcount_bracket == "NN"
    assert company.headcount_label == "Unité non employeuse"
    assert company.active is False
    assert company.closed_on == date(2022, 10, 22)
    assert company.diffusion == "public"


async def test_recherche_by_siren(recherche_siret: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{RECHERCHE}/search").respond(200, json=recherche_siret)
        company = await CompanyLookup().lookup("880878145")
    assert route.calls.last.request.url.params["q"] == "880878145"
    assert company.siret == GANYMEDE_SIRET  # the head office's
    assert company.active is False  # etat_administratif "C"


async def test_recherche_secondary_establishment_uses_matching_etablissements(
    recherche_siret: dict[str, Any],
) -> None:
    body = copy.deepcopy(recherche_siret)
    result = body["results"][0]
    other = {
        **result["matching_etablissements"][0],
        "siret": "88087814500023",
        "est_siege": False,
        "adresse": "4 AV DE LA REPUBLIQUE 69001 LYON",
        "etat_administratif": "A",
        "code_postal": "69001",
        "libelle_commune": "LYON",
    }
    result["matching_etablissements"] = [other]
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=body)
        company = await CompanyLookup().by_siret("88087814500023")
    assert company.siret == "88087814500023"
    assert company.is_head_office is False
    assert company.address == "4 AVENUE DE LA REPUBLIQUE 69001 LYON"
    assert company.active is True


async def test_recherche_unknown_siret_is_not_found() -> None:
    empty = {"results": [], "total_results": 0, "page": 1, "per_page": 1, "total_pages": 0}
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=empty)
        with pytest.raises(NotFoundError) as info:
            await CompanyLookup().by_siret("12345678900011")
    assert info.value.vendor == "recherche-entreprises"


async def test_recherche_siret_of_another_establishment_is_not_found(recherche_siret: dict[str, Any]) -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=recherche_siret)
        with pytest.raises(NotFoundError):
            await CompanyLookup().by_siret("88087814599999")


async def test_recherche_400_carries_erreur_message() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(400, json={"erreur": "Veuillez indiquer un paramètre q."})
        with pytest.raises(RequestError) as info:
            await CompanyLookup().by_siren("880878145")
    assert info.value.status_code == 400
    assert info.value.vendor_message == "Veuillez indiquer un paramètre q."


async def test_recherche_partial_diffusion(recherche_siret: dict[str, Any]) -> None:
    body = copy.deepcopy(recherche_siret)
    result = body["results"][0]
    result.update({"statut_diffusion": "P", "nom_raison_sociale": None, "nom_complet": "[NON-DIFFUSIBLE]"})
    result["siege"].update(
        {"statut_diffusion_etablissement": "P", "numero_voie": "[ND]", "type_voie": "[ND]", "libelle_voie": "[ND]"}
    )
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{RECHERCHE}/search").respond(200, json=body)
        company = await CompanyLookup().by_siret(GANYMEDE_SIRET)
    assert company.diffusion == "partial"
    assert company.legal_name is None
    assert company.address == "75008 PARIS 8"


def test_recherche_rate_limit_is_7_per_second() -> None:
    limiter = RechercheEntreprisesClient().http.limiter
    assert limiter is not None
    assert (limiter.max_calls, limiter.period) == (7, 1.0)


async def test_recherche_8th_call_in_a_second_waits(recherche_siret: dict[str, Any]) -> None:
    client = RechercheEntreprisesClient()
    fake = on_fake_time(client.http.limiter)
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{RECHERCHE}/search").respond(200, json=recherche_siret)
        for _ in range(7):
            await client.by_siret(GANYMEDE_SIRET)
            fake.now += 0.1
        assert fake.sleeps == []
        await client.by_siret(GANYMEDE_SIRET)  # t=0.7: the first call leaves the 1 s window at t=1
    [waited] = fake.sleeps
    assert waited == pytest.approx(0.3)
    assert route.call_count == 8


# ---------------------------------------------------------------------------------------------- shared


def test_source_depends_on_insee_key() -> None:
    assert CompanyLookup("k").source == "insee"
    assert CompanyLookup(None).source == "recherche-entreprises"
    assert CompanyLookup("").source == "recherche-entreprises"


@pytest.mark.parametrize("bad", ["", "1234567890123", "123456789012345", "1234567890123A", "12345678"])
async def test_invalid_siret_is_refused_before_any_call(bad: str) -> None:
    async with respx.mock(assert_all_called=False) as mock:
        for lookup in (CompanyLookup("k"), CompanyLookup(None)):
            with pytest.raises(ValueError):
                await lookup.by_siret(bad)
            with pytest.raises(ValueError):
                await lookup.lookup(bad)
    assert not mock.calls


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678A"])
async def test_invalid_siren_is_refused_before_any_call(bad: str) -> None:
    async with respx.mock(assert_all_called=False) as mock:
        with pytest.raises(ValueError):
            await CompanyLookup("k").by_siren(bad)
    assert not mock.calls


def test_normalizers_strip_spaces() -> None:
    assert normalize_siret(" 880 878 145 00015 ") == GANYMEDE_SIRET
    assert normalize_siren("880 878 145") == "880878145"


@pytest.mark.parametrize(
    ("code", "street"),
    [
        ("RUE", "12 RUE DE LA PAIX"),
        ("AV", "12 AVENUE DE LA PAIX"),
        ("BD", "12 BOULEVARD DE LA PAIX"),
        ("CHE", "12 CHEMIN DE LA PAIX"),
        ("IMP", "12 IMPASSE DE LA PAIX"),
        ("XYZ", "12 XYZ DE LA PAIX"),
    ],
)
def test_street_type_codes_are_spelled_out(code: str, street: str) -> None:
    address = format_address(number="12", street_type=code, street_name="DE LA PAIX", postal_code="75002", city="PARIS")
    assert address == f"{street}, 75002 PARIS"


def test_address_repetition_cedex_and_foreign() -> None:
    assert (
        format_address(
            number="3",
            repetition="B",
            street_type="AV",
            street_name="FOCH",
            postal_code="69006",
            city="LYON",
            cedex_code="69461",
            cedex_label="LYON CEDEX 06",
        )
        == "3 BIS AVENUE FOCH, 69461 LYON CEDEX 06"
    )
    assert (
        format_address(street_name="RUE DU RHONE 12", foreign_city="GENEVE", foreign_country="SUISSE")
        == "RUE DU RHONE 12, GENEVE, SUISSE"
    )
    assert format_address() is None
