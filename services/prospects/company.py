"""A client's company identity from its SIRET: looked up outside any transaction (with a deadline),
then saved with what the lookup said — found, not found (kept as typed), or the lookup unavailable."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from integrations.company_lookup import Company, CompanyLookup, vat_number
from integrations.errors import IntegrationError, NotFoundError
from services.audit import service as audit
from services.core.db import AnySession
from services.prospects import repository
from services.prospects.schemas import CompanyRead, LookupStatus


@dataclass(frozen=True)
class Lookup:
    siret: str
    status: LookupStatus
    company: Company | None = None


async def look_up(lookup: CompanyLookup, siret: str, *, deadline: float | None) -> Lookup:
    """Never raises for the vendor: a missing company or a lookup that is down (or slower than
    `deadline` seconds, retries included) is an outcome."""
    try:
        async with asyncio.timeout(deadline):
            company = await lookup.by_siret(siret)
    except NotFoundError:
        return Lookup(siret, "not_found_kept_as_typed")
    except (IntegrationError, httpx.HTTPError, TimeoutError):
        return Lookup(siret, "lookup_unavailable")
    return Lookup(siret, "found", company)


def _values(client_id: UUID, result: Lookup) -> dict[str, Any]:
    company = result.company
    siren = result.siret[:9]
    values: dict[str, Any] = {
        "client_id": client_id, "siret": result.siret, "siren": siren, "lookup_status": result.status,
        "source": None, "legal_name": None, "address_lines": [], "postal_code": None, "city": None, "naf_code": None,
        "creation_date": None, "headcount_bracket": None, "headcount_label": None, "vat_number": vat_number(siren),
        "looked_up_at": None if result.status == "lookup_unavailable" else datetime.now(UTC),
    }  # fmt: skip
    if company is not None:
        values.update(
            source=company.source, legal_name=company.legal_name and company.legal_name[:500],
            address_lines=company.address_lines, postal_code=company.postal_code, city=company.city,
            naf_code=company.naf_code, creation_date=company.creation_date,
            headcount_bracket=company.headcount_bracket, headcount_label=company.headcount_label,
            vat_number=company.vat_number or values["vat_number"],
        )  # fmt: skip
    return values


async def save(session: AnySession, client_id: UUID, result: Lookup) -> CompanyRead:
    before = await repository.get_company(session, client_id)
    after = CompanyRead(**dict(await repository.save_company(session, _values(client_id, result))))
    await audit.record(
        session, action=f"client.company_{result.status}", entity_type="client_company", entity_id=client_id,
        client_id=client_id, before=CompanyRead(**dict(before)) if before else None, after=after,
    )  # fmt: skip
    return after
