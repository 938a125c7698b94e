"""Documents fixtures: small limits, real local storage under the test's data dir."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.core.settings import Settings
from tests.documents.kit import DIRECT_MAX, MAX, Docs


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits so refusals are cheap to provoke."""
    return settings.model_copy(update={"documents_direct_upload_max_bytes": DIRECT_MAX, "documents_max_bytes": MAX})


@pytest.fixture
def docs(client: httpx.AsyncClient, tmp_path: Path) -> Docs:
    return Docs(client, tmp_path / "storage")
