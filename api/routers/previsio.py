"""The pre-visio waiting room: reached through a signed link (no account), one prospect's form only."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from api.deps import Db
from api.problems import responses
from integrations.company_lookup import CompanyLookup
from integrations.livekit import LiveKitClient
from services.core.context import request_id_var
from services.core.queue import Resources
from services.prospects import previsio
from services.prospects.schemas import PrevisioAnswer, PrevisioForm, PrevisioResult

router = APIRouter(prefix="/previsio", tags=["previsio"])
Token = Path(min_length=20, max_length=300, pattern=r"^[A-Za-z0-9_.\-]+$")


@router.get("/{previsio_token}", response_model=PrevisioForm, responses=responses(401, 422))
async def read_form(request: Request, db: Db, previsio_token: str = Token) -> PrevisioForm:
    """The pre-visio form of the appointment the signed link names."""
    return await previsio.read_form(db, request.app.state.settings, previsio_token, request_id_var.get())


@router.post("/{previsio_token}", response_model=PrevisioResult, responses=responses(401, 409, 422, 503))
async def submit_form(request: Request, db: Db, data: PrevisioAnswer, previsio_token: str = Token) -> PrevisioResult:
    """Answer the pre-visio form (phone, SIRET or city) and get the way into the meeting."""
    resources: Resources = request.app.state.job_context.resources
    lookup, livekit = resources.get(CompanyLookup), resources.get(LiveKitClient)
    settings = request.app.state.settings
    return await previsio.submit(db, settings, lookup, livekit, previsio_token, data, request_id_var.get())
