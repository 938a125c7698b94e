"""Company lookup by SIRET/SIREN: INSEE Sirene 3.11 with an API key, recherche-entreprises (free) without.

Reference: integrations-reference.md §3. Both sources are normalised into one `Company`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from integrations._http import RateLimiter, RetryPolicy, VendorHTTP
from integrations.errors import IntegrationError, NotFoundError

INSEE_VENDOR = "insee"
INSEE_BASE_URL = "https://api.insee.fr/api-sirene/3.11"
RECHERCHE_VENDOR = "recherche-entreprises"
RECHERCHE_BASE_URL = "https://recherche-entreprises.api.gouv.fr"
DEFAULT_USER_AGENT = "Foxeo backend (company lookup)"

Source = Literal["insee", "recherche-entreprises"]
Diffusion = Literal["public", "partial"]

# INSEE "type de voie" codes, spelled in upper case without accents as the postal (AFNOR) norm both
# sources follow does.
STREET_TYPES: dict[str, str] = {
    "ALL": "ALLEE",
    "AV": "AVENUE",
    "BD": "BOULEVARD",
    "BRG": "BOURG",
    "CAR": "CARREFOUR",
    "CHE": "CHEMIN",
    "CHS": "CHAUSSEE",
    "CITE": "CITE",
    "COR": "CORNICHE",
    "CRS": "COURS",
    "DOM": "DOMAINE",
    "DSC": "DESCENTE",
    "ECA": "ECART",
    "ESP": "ESPLANADE",
    "FG": "FAUBOURG",
    "GR": "GRANDE RUE",
    "HAM": "HAMEAU",
    "HLE": "HALLE",
    "IMP": "IMPASSE",
    "LD": "LIEU-DIT",
    "LOT": "LOTISSEMENT",
    "MAR": "MARCHE",
    "MTE": "MONTEE",
    "PARC": "PARC",
    "PAS": "PASSAGE",
    "PL": "PLACE",
    "PLN": "PLAINE",
    "PLT": "PLATEAU",
    "PRO": "PROMENADE",
    "PRV": "PARVIS",
    "QUA": "QUARTIER",
    "QUAI": "QUAI",
    "RES": "RESIDENCE",
    "RLE": "RUELLE",
    "ROC": "ROCADE",
    "RPT": "ROND-POINT",
    "RTE": "ROUTE",
    "RUE": "RUE",
    "SEN": "SENTIER",
    "SQ": "SQUARE",
    "TPL": "TERRE-PLEIN",
    "TRA": "TRAVERSE",
    "VLA": "VILLA",
    "VLGE": "VILLAGE",
    "VOIE": "VOIE",
    "ZA": "ZONE ARTISANALE",
    "ZAC": "ZONE D'AMENAGEMENT CONCERTE",
    "ZI": "ZONE INDUSTRIELLE",
}
_REPETITION = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "QUINQUIES"}

# INSEE "tranche d'effectif salarié" codes.
HEADCOUNT_BRACKETS: dict[str, str] = {
    "NN": "Unité non employeuse",
    "00": "0 salarié",
    "01": "1 ou 2 salariés",
    "02": "3 à 5 salariés",
    "03": "6 à 9 salariés",
    "11": "10 à 19 salariés",
    "12": "20 à 49 salariés",
    "21": "50 à 99 salariés",
    "22": "100 à 199 salariés",
    "31": "200 à 249 salariés",
    "32": "250 à 499 salariés",
    "41": "500 à 999 salariés",
    "42": "1 000 à 1 999 salariés",
    "51": "2 000 à 4 999 salariés",
    "52": "5 000 à 9 999 salariés",
    "53": "10 000 salariés et plus",
}

# Masked values of partially diffusible units. UNVERIFIED: INSEE's exact masking since the 2023 reform
# ("[ND]" per public clients); recherche-entreprises' marker is a guess. Any of them reads as "unknown".
_MASKED = frozenset({"", "[ND]", "[NON-DIFFUSIBLE]", "NON-DIFFUSIBLE", "[NON DIFFUSIBLE]"})


class Company(BaseModel):
    """One legal unit (and, for a SIRET lookup, the establishment) in Foxeo's terms."""

    source: Source
    siren: str
    siret: str | None = None
    legal_name: str | None
    acronym: str | None = None
    trade_name: str | None = None
    address: str | None = None
    # The address before its locality, one line each: complement, street (number ranges kept:
    # "59-61 RUE LA FAYETTE"), special distribution.
    address_lines: list[str] = []
    postal_code: str | None = None
    city: str | None = None
    naf_code: str | None = None
    legal_category: str | None = None
    vat_number: str | None = None
    creation_date: date | None = None
    headcount_bracket: str | None = None
    headcount_label: str | None = None
    is_head_office: bool | None = None
    # `siret`, `address`, `is_head_office` describe the looked-up establishment (the head office for a SIREN);
    # `active` is the looked-up entity's state: the establishment for a SIRET, the legal unit for a SIREN.
    active: bool | None = None
    closed_on: date | None = None
    diffusion: Diffusion = "public"


def normalize_siret(value: str) -> str:
    digits = re.sub(r"\s+", "", value or "")
    if not re.fullmatch(r"\d{14}", digits):
        raise ValueError("a SIRET is 14 digits")
    return digits


def normalize_siren(value: str) -> str:
    digits = re.sub(r"\s+", "", value or "")
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("a SIREN is 9 digits")
    return digits


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.upper() in _MASKED else text


def _date(value: Any) -> date | None:
    text = _clean(value)
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _state(code: Any) -> bool | None:
    text = _clean(code)
    return None if text is None else text.upper() == "A"


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _diffusion(*codes: Any) -> Diffusion:
    # "O" = fully public; "P" (partial, since 2023) and the legacy "N" both mean masked fields.
    present = [c for c in (_clean(code) for code in codes) if c]
    return "public" if all(c.upper() == "O" for c in present) else "partial"


def _person_name(first: Any, last: Any) -> str | None:
    return " ".join(part for part in (_clean(first), _clean(last)) if part) or None


def vat_number(siren: str) -> str:
    """The French intra-community VAT number of a SIREN: FR + key + SIREN, key = (12 + 3 × (SIREN mod 97)) mod 97."""
    siren = normalize_siren(siren)
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _vat(siren: str | None) -> str | None:
    try:
        return vat_number(siren) if siren else None
    except ValueError:
        return None


def _street_number(first: Any, last: Any) -> str | None:
    """`59` and `61` → `59-61`: the range an establishment spans (Sirene's dernierNumeroVoie)."""
    start, end = _clean(first), _clean(last)
    return f"{start}-{end}" if start and end and end != start else start


def address_lines(
    *,
    complement: Any = None,
    number: Any = None,
    last_number: Any = None,
    repetition: Any = None,
    street_type: Any = None,
    street_name: Any = None,
    special_distribution: Any = None,
) -> list[str]:
    """The lines of an address before its locality, street-type codes spelled out."""
    kind = _clean(street_type)
    repeat = _clean(repetition)
    street = " ".join(
        p
        for p in (
            _street_number(number, last_number),
            _REPETITION.get(repeat.upper(), repeat) if repeat else None,
            STREET_TYPES.get(kind.upper(), kind) if kind else None,
            _clean(street_name),
        )
        if p
    )
    return [p for p in (_clean(complement), street, _clean(special_distribution)) if p]


def format_address(
    *,
    complement: Any = None,
    number: Any = None,
    last_number: Any = None,
    repetition: Any = None,
    street_type: Any = None,
    street_name: Any = None,
    special_distribution: Any = None,
    postal_code: Any = None,
    city: Any = None,
    cedex_code: Any = None,
    cedex_label: Any = None,
    foreign_city: Any = None,
    foreign_country: Any = None,
) -> str | None:
    """One-line postal address with street-type codes spelled out ("PL" → "PLACE")."""
    lines = address_lines(
        complement=complement, number=number, last_number=last_number, repetition=repetition,
        street_type=street_type, street_name=street_name, special_distribution=special_distribution,
    )  # fmt: skip
    if _clean(cedex_code):
        locality = " ".join(p for p in (_clean(cedex_code), _clean(cedex_label)) if p)
    elif _clean(foreign_country):
        locality = ", ".join(p for p in (_clean(foreign_city), _clean(foreign_country)) if p)
    else:
        locality = " ".join(p for p in (_clean(postal_code), _clean(city)) if p)
    return ", ".join([*lines, locality] if locality else lines) or None


def _expand_street_type(address: str) -> str:
    """Spell out the street-type code that follows the number in an already formatted address."""
    tokens = address.split(" ")
    for i, token in enumerate(tokens[:4]):
        if token.upper() in STREET_TYPES and (
            i == 0 or tokens[i - 1][:1].isdigit() or tokens[i - 1].upper() in _REPETITION.values()
        ):
            tokens[i] = STREET_TYPES[token.upper()]
            break
    return " ".join(tokens)


def _street_part(address: str, postal_code: str | None) -> str:
    """`59-61 RUE LA FAYETTE 75009 PARIS 9` → `59-61 RUE LA FAYETTE` (what precedes the postal code)."""
    if postal_code and f" {postal_code} " in f" {address} ":
        return address[: f" {address} ".index(f" {postal_code} ")].strip()
    return address


def _headcount(*codes: Any) -> tuple[str | None, str | None]:
    code = next((c for c in (_clean(code) for code in codes) if c), None)
    return code, HEADCOUNT_BRACKETS.get(code) if code else None


# ---------------------------------------------------------------------------------------------- INSEE


def company_from_insee(etablissement: Mapping[str, Any], *, by: Literal["siret", "siren"]) -> Company:
    """Normalise one Sirene `etablissement` (with its embedded `uniteLegale`)."""
    unit = etablissement.get("uniteLegale") or {}
    periods = etablissement.get("periodesEtablissement") or []
    current = next((p for p in periods if p.get("dateFin") is None), periods[0] if periods else {})
    address = etablissement.get("adresseEtablissement") or {}
    siren = _clean(etablissement.get("siren")) or _clean(unit.get("siren")) or ""
    bracket, label = _headcount(
        unit.get("trancheEffectifsUniteLegale"), etablissement.get("trancheEffectifsEtablissement")
    )
    site_active = _state(current.get("etatAdministratifEtablissement"))
    unit_active = _state(unit.get("etatAdministratifUniteLegale"))
    street: dict[str, Any] = {
        "complement": address.get("complementAdresseEtablissement"),
        "number": address.get("numeroVoieEtablissement"),
        "last_number": address.get("dernierNumeroVoieEtablissement"),
        "repetition": address.get("indiceRepetitionEtablissement"),
        "street_type": address.get("typeVoieEtablissement"),
        "street_name": address.get("libelleVoieEtablissement"),
        "special_distribution": address.get("distributionSpecialeEtablissement"),
    }
    return Company(
        source="insee",
        siren=siren,
        siret=_clean(etablissement.get("siret")),
        legal_name=_clean(unit.get("denominationUniteLegale"))
        or _person_name(
            unit.get("prenomUsuelUniteLegale") or unit.get("prenom1UniteLegale"),
            unit.get("nomUsageUniteLegale") or unit.get("nomUniteLegale"),
        ),
        acronym=_clean(unit.get("sigleUniteLegale")),
        trade_name=_clean(current.get("enseigne1Etablissement"))
        or _clean(current.get("denominationUsuelleEtablissement")),
        address=format_address(
            **street,
            postal_code=address.get("codePostalEtablissement"),
            city=address.get("libelleCommuneEtablissement"),
            cedex_code=address.get("codeCedexEtablissement"),
            cedex_label=address.get("libelleCedexEtablissement"),
            foreign_city=address.get("libelleCommuneEtrangerEtablissement"),
            foreign_country=address.get("libellePaysEtrangerEtablissement"),
        ),
        address_lines=address_lines(**street),
        postal_code=_clean(address.get("codePostalEtablissement")),
        city=_clean(address.get("libelleCommuneEtablissement")),
        naf_code=_clean(unit.get("activitePrincipaleUniteLegale"))
        or _clean(current.get("activitePrincipaleEtablissement")),
        legal_category=_clean(unit.get("categorieJuridiqueUniteLegale")),
        vat_number=_vat(siren),
        creation_date=_date(unit.get("dateCreationUniteLegale"))
        or _date(etablissement.get("dateCreationEtablissement")),
        headcount_bracket=bracket,
        headcount_label=label,
        is_head_office=_flag(etablissement.get("etablissementSiege")),
        active=(site_active if site_active is not None else unit_active) if by == "siret" else unit_active,
        closed_on=_date(current.get("dateDebut")) if by == "siret" and site_active is False else None,
        diffusion=_diffusion(etablissement.get("statutDiffusionEtablissement"), unit.get("statutDiffusionUniteLegale")),
    )


class InseeSireneClient:
    """Sirene 3.11 on portail-api.insee.fr (public plan: 30 requests / minute)."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = INSEE_BASE_URL,
        timeout: httpx.Timeout = httpx.Timeout(10.0, connect=5.0),
        # UNVERIFIED whether a 429 carries Retry-After: back off from 2 s.
        retry: RetryPolicy = RetryPolicy(max_attempts=3, base_delay=2.0, max_delay=10.0),
        limiter: RateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.http = VendorHTTP(
            INSEE_VENDOR,
            base_url,
            headers={"X-INSEE-Api-Key-Integration": api_key, "Accept": "application/json"},
            timeout=timeout,
            retry=retry,
            limiter=limiter or RateLimiter(30, 60.0),
            transport=transport,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def by_siret(self, siret: str) -> Company:
        siret = normalize_siret(siret)
        body = await self._get(f"/siret/{siret}")
        etablissement = body.get("etablissement")
        if not isinstance(etablissement, dict):
            raise IntegrationError(INSEE_VENDOR, "Sirene response has no etablissement")
        return company_from_insee(etablissement, by="siret")

    async def by_siren(self, siren: str) -> Company:
        """The legal unit, addressed at its head office (one call instead of /siren + /siret).

        `/siren` has no address, hence the multi-criteria search on establishments.
        """
        siren = normalize_siren(siren)
        query = f"siren:{siren} AND etablissementSiege:true"
        body = await self._get("/siret", params={"q": query, "nombre": 1})
        found = body.get("etablissements") or []
        if not found:
            raise NotFoundError(INSEE_VENDOR, 404, f"Aucun élément trouvé pour le siren {siren}", body)
        return company_from_insee(found[0], by="siren")

    async def _get(self, url: str, **kwargs: Any) -> dict[str, Any]:
        # Error texts (`header.message`) are read by the shared layer's _error_message.
        body = await self.http.json("GET", url, **kwargs)
        if not isinstance(body, dict):
            raise IntegrationError(INSEE_VENDOR, "unexpected Sirene response")
        return body


# ------------------------------------------------------------------------------------ recherche-entreprises


def _recherche_site(result: Mapping[str, Any], siret: str | None) -> Mapping[str, Any] | None:
    siege = result.get("siege") or {}
    if not siret or siege.get("siret") == siret:
        return siege
    matches = result.get("matching_etablissements") or []
    return next((m for m in matches if m.get("siret") == siret), None)


def company_from_recherche(result: Mapping[str, Any], *, siret: str | None = None) -> Company:
    """Normalise one `/search` result; `siret` picks the establishment (else the head office)."""
    site = _recherche_site(result, siret) or {}
    lines: list[str]
    if "libelle_voie" in site or "type_voie" in site:
        street: dict[str, Any] = {
            "complement": site.get("complement_adresse"),
            "number": site.get("numero_voie"),
            "last_number": site.get("dernier_numero_voie"),
            "repetition": site.get("indice_repetition"),
            "street_type": site.get("type_voie"),
            "street_name": site.get("libelle_voie"),
            "special_distribution": site.get("distribution_speciale"),
        }
        lines = address_lines(**street)
        address = format_address(
            **street,
            postal_code=site.get("code_postal"),
            city=site.get("libelle_commune"),
            cedex_code=site.get("cedex"),
            cedex_label=site.get("libelle_cedex"),
            foreign_city=site.get("libelle_commune_etranger"),
            foreign_country=site.get("libelle_pays_etranger"),
        )
    else:
        # matching_etablissements carry only the formatted `adresse`, its locality last.
        formatted = _clean(site.get("adresse"))
        address = _expand_street_type(formatted) if formatted else None
        lines = [_street_part(address, _clean(site.get("code_postal")))] if address else []
    bracket, label = _headcount(result.get("tranche_effectif_salarie"), site.get("tranche_effectif_salarie"))
    site_active = _state(site.get("etat_administratif"))
    unit_active = _state(result.get("etat_administratif"))
    return Company(
        source="recherche-entreprises",
        siren=str(result.get("siren") or ""),
        siret=siret or _clean(site.get("siret")),
        legal_name=_clean(result.get("nom_raison_sociale")) or _clean(result.get("nom_complet")),
        acronym=_clean(result.get("sigle")),
        trade_name=_clean(site.get("nom_commercial")),
        address=address,
        address_lines=[line for line in lines if line],
        postal_code=_clean(site.get("code_postal")),
        city=_clean(site.get("libelle_commune")),
        naf_code=_clean(result.get("activite_principale")) or _clean(site.get("activite_principale")),
        legal_category=_clean(result.get("nature_juridique")),
        vat_number=_vat(_clean(result.get("siren"))),
        creation_date=_date(result.get("date_creation")) or _date(site.get("date_creation")),
        headcount_bracket=bracket,
        headcount_label=label,
        is_head_office=_flag(site.get("est_siege")),
        active=(site_active if site_active is not None else unit_active) if siret else unit_active,
        closed_on=_date(site.get("date_fermeture")) if siret else _date(result.get("date_fermeture")),
        diffusion=_diffusion(result.get("statut_diffusion"), site.get("statut_diffusion_etablissement")),
    )


class RechercheEntreprisesClient:
    """recherche-entreprises.api.gouv.fr: free, no key, 7 requests / second per IP."""

    def __init__(
        self,
        *,
        base_url: str = RECHERCHE_BASE_URL,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: httpx.Timeout = httpx.Timeout(10.0, connect=5.0),
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.http = VendorHTTP(
            RECHERCHE_VENDOR,
            base_url,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            retry=retry,
            limiter=limiter or RateLimiter(7, 1.0),
            transport=transport,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def by_siret(self, siret: str) -> Company:
        siret = normalize_siret(siret)
        result = await self._search(siret, siret[:9])
        if _recherche_site(result, siret) is None:
            raise NotFoundError(RECHERCHE_VENDOR, 404, f"Aucun établissement pour le SIRET {siret}", result)
        return company_from_recherche(result, siret=siret)

    async def by_siren(self, siren: str) -> Company:
        siren = normalize_siren(siren)
        return company_from_recherche(await self._search(siren, siren))

    async def _search(self, query: str, siren: str) -> Mapping[str, Any]:
        # A 9- or 14-digit q is a direct identifier lookup on their side; other filters are ignored.
        # A 400's `{"erreur": ...}` text is read by the shared layer's _error_message.
        body = await self.http.json("GET", "/search", params={"q": query, "page": 1, "per_page": 1})
        results = body.get("results") if isinstance(body, dict) else None
        # Non-diffusible units are simply absent from results: that is a 404 for us too.
        match: Mapping[str, Any] | None = next(
            (r for r in results or [] if isinstance(r, dict) and r.get("siren") == siren), None
        )
        if match is None:
            raise NotFoundError(RECHERCHE_VENDOR, 404, f"Aucun résultat pour {query}", body)
        return match


# ---------------------------------------------------------------------------------------------- facade


class CompanyLookup:
    """SIRET/SIREN → Company: INSEE when `insee_api_key` is set, recherche-entreprises otherwise."""

    def __init__(
        self,
        insee_api_key: str | None = None,
        *,
        insee_base_url: str = INSEE_BASE_URL,
        recherche_base_url: str = RECHERCHE_BASE_URL,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client: InseeSireneClient | RechercheEntreprisesClient
        if insee_api_key:
            self.client = InseeSireneClient(insee_api_key, base_url=insee_base_url, transport=transport, sleep=sleep)
        else:
            self.client = RechercheEntreprisesClient(
                base_url=recherche_base_url, user_agent=user_agent, transport=transport, sleep=sleep
            )

    @property
    def source(self) -> Source:
        return "insee" if isinstance(self.client, InseeSireneClient) else "recherche-entreprises"

    async def aclose(self) -> None:
        await self.client.aclose()

    async def by_siret(self, siret: str) -> Company:
        return await self.client.by_siret(siret)

    async def by_siren(self, siren: str) -> Company:
        return await self.client.by_siren(siren)

    async def lookup(self, identifier: str) -> Company:
        """A 14-digit SIRET or a 9-digit SIREN (spaces allowed)."""
        digits = re.sub(r"\s+", "", identifier or "")
        if len(digits) == 9:
            return await self.by_siren(digits)
        if len(digits) == 14:
            return await self.by_siret(digits)
        raise ValueError("expected a 14-digit SIRET or a 9-digit SIREN")
