"""Shared helpers for the integration-client tests: vendor payload fixtures from tests/fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"


def load_fixture(name: str) -> Any:
    """A recorded vendor payload by file name (".json" optional), e.g. "pennylane_product_get"."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def fixture_json() -> Callable[[str], Any]:
    return load_fixture
