"""How Pennylane v2 list and changelog queries are spelled (integrations-reference §1.4, §1.6), and its
one typed error beyond the shared ones."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from integrations.errors import TransientError

VENDOR = "pennylane"
CHANGELOG_RETENTION = dt.timedelta(weeks=4)
MAX_PAGE_LIMIT = 100
MAX_CHANGELOG_LIMIT = 1000

FilterOperator = Literal["lt", "lteq", "gt", "gteq", "eq", "not_eq", "in", "not_in", "start_with"]
FilterScalar = str | int | bool | Decimal | dt.date
ChangelogResource = Literal["customer_invoices", "customers", "quotes", "products"]
QuoteStatus = Literal["pending", "accepted", "denied", "expired", "invoiced"]


class PennylanePdfNotReadyError(TransientError):
    """409 on send_by_email: Pennylane has not generated the PDF yet; send again a little later."""

    def __init__(self, document: str, document_id: int) -> None:
        super().__init__(VENDOR, f"PDF of {document} {document_id} is not generated yet", status_code=409)
        self.document_id = document_id


@dataclass(frozen=True)
class Filter:
    """One `{field, operator, value}` of the JSON `filter` query parameter."""

    field: str
    operator: FilterOperator
    value: FilterScalar | Sequence[FilterScalar]


def _filter_scalar(value: FilterScalar) -> str:
    # The filter docs type every value as a string (ids included: `"value":"1338658480128"`).
    # UNVERIFIED for booleans (`draft`, `credit_note`): "true"/"false" is the assumed spelling.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def encode_filters(filters: Sequence[Filter]) -> str:
    encoded = []
    for f in filters:
        value: str | list[str]
        if isinstance(f.value, (str, int, bool, Decimal, dt.date)):
            value = _filter_scalar(f.value)
        else:
            value = [_filter_scalar(v) for v in f.value]
        encoded.append({"field": f.field, "operator": f.operator, "value": value})
    return json.dumps(encoded, separators=(",", ":"))


def page_params(filters: Sequence[Filter], cursor: str | None, limit: int | None, sort: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if filters:
        params["filter"] = encode_filters(filters)
    if cursor:
        params["cursor"] = cursor
    if limit is not None:
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_LIMIT}")
        params["limit"] = str(limit)
    if sort:
        params["sort"] = sort
    return params


def changelog_params(
    start_date: dt.datetime | None, cursor: str | None, limit: int | None, *, now: dt.datetime
) -> dict[str, str]:
    # Pennylane answers 400 to both and 422 to a start older than its retention: fail before sending.
    if start_date is not None and cursor is not None:
        raise ValueError("pass start_date or cursor, not both")
    params: dict[str, str] = {}
    if start_date is not None:
        if start_date.tzinfo is None:
            # A naive time would be read in the wrong zone and silently skip or replay changes.
            raise ValueError("start_date must be timezone-aware")
        if start_date < now - CHANGELOG_RETENTION:
            raise ValueError("start_date must be within the last 4 weeks (changelog retention)")
        params["start_date"] = start_date.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        if not 1 <= limit <= MAX_CHANGELOG_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_CHANGELOG_LIMIT}")
        params["limit"] = str(limit)
    return params
