"""Pennylane accounting exports: the FEC (Fichier des Écritures Comptables) is built asynchronously —
`POST /exports/fecs` answers `{id, status: "pending"}`, `GET /exports/fecs/{id}` is polled until
`status` is `ready` and carries a `file_url` (a signed link that expires after about 10 minutes, so it
is downloaded at once). Shapes: the reference's example (https://pennylane.readme.io/reference/exportfec,
fixture `pennylane_fec_export_*.json`); no live recording.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx

from integrations.errors import IntegrationError, TransientError
from integrations.pennylane.client import PennylaneClient
from integrations.pennylane.models import PennylaneModel
from integrations.pennylane.query import VENDOR

READY = "ready"
FAILED = frozenset({"error", "failed"})


class FecExport(PennylaneModel):
    id: int
    status: str  # pending | ready | error
    file_url: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def ready(self) -> bool:
        return self.status == READY and bool(self.file_url)

    @property
    def failed(self) -> bool:
        return self.status in FAILED


class PennylaneExports:
    """Exports through the shared client (its token, rate limiter and retries)."""

    def __init__(self, client: PennylaneClient, *, download_timeout: float = 120.0) -> None:
        self.client = client
        self._download_timeout = download_timeout

    async def create_fec(self, period_start: dt.date, period_end: dt.date) -> FecExport:
        """Ask for the FEC of a period; a creation is not retried after an ambiguous failure."""
        if period_end < period_start:
            raise ValueError("period_end is before period_start")
        body = {"period_start": period_start.isoformat(), "period_end": period_end.isoformat()}
        return await self.client._fetch(FecExport, "POST", "/exports/fecs", body=body)

    async def get_fec(self, export_id: int) -> FecExport:
        return await self.client._fetch(FecExport, "GET", f"/exports/fecs/{int(export_id)}")

    async def download(self, export: FecExport) -> AsyncIterator[bytes]:
        """The file behind a ready export, streamed (the link is pre-signed: no token is sent to it)."""
        if not export.ready or export.file_url is None:
            raise IntegrationError(VENDOR, f"FEC export {export.id} is not ready")
        async with (
            httpx.AsyncClient(timeout=self._download_timeout, follow_redirects=True) as http,
            http.stream("GET", export.file_url) as response,
        ):
            if response.status_code >= 400:
                raise TransientError(VENDOR, f"FEC file download answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                yield chunk
