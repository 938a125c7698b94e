"""Types every module's schemas share, so a value is written the same way whichever path renders it.

Responses are rendered two ways: by pydantic (writes, small reads) and by Postgres (`row_to_json`,
passed through as bytes on hot lists and details). `Timestamp` makes pydantic write a timestamptz
exactly as Postgres does — UTC offset `+00:00`, fractional seconds without trailing zeros — so the
same row reads the same from POST, PATCH and GET (tests/test_contract.py checks every route)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer


def postgres_iso(value: datetime) -> str:
    """`value` as PostgreSQL's JSON output writes a timestamptz in a UTC session."""
    text = value.astimezone(UTC).isoformat()
    if value.microsecond:
        moment, offset = text[:-6], text[-6:]
        text = moment.rstrip("0") + offset
    return text


Timestamp = Annotated[datetime, PlainSerializer(postgres_iso, return_type=str, when_used="json")]
