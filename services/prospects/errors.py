from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class NotAProspect(Conflict):
    code = "not_a_prospect"


class CompanyNotFound(NotFound):
    code = "company_not_found"

    def __init__(self) -> None:
        super().__init__("no company identity for this client yet (no SIRET given)")


class PrevisioInvalid(Unprocessable):
    code = "previsio_invalid"
