"""Field types for request bodies, so the OpenAPI contract and the server agree.

FastAPI validates a parsed JSON body in pydantic's lax Python mode, where `false` is an integer,
`0` a date and `"yes"` a boolean. These types are strict where JSON has the type itself (integers,
booleans) and accept only ISO 8601 text for dates (JSON has no date type). `Omittable` is for
update fields that may be left out but not cleared: the schema does not declare them nullable, and
an explicit null is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, StrictBool, StrictInt
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

T = TypeVar("T")

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")


def iso_datetime(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return value
    raise ValueError("must be an ISO 8601 date and time (YYYY-MM-DDTHH:MM[:SS][±HH:MM|Z])")


def refuse_null(value: T | None) -> T:
    if value is None:
        raise ValueError("cannot be null: leave the field out to keep its value")
    return value


class _NotNullInSchema:
    """Drop `null` from the field's JSON schema (validation still sees `T | None`, so errors keep
    plain field locations instead of union branch names)."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        value: dict[str, Any] = handler(schema)
        options = [o for o in value.get("anyOf", ()) if o != {"type": "null"}]
        if len(options) == 1:
            del value["anyOf"]
            value.update(options[0])
        return value


Int = StrictInt
Bool = StrictBool
IsoDate = Annotated[date, BeforeValidator(iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(iso_datetime)]
# The default None is not validated (only input is): leaving the field out is fine, null is not.
Omittable = Annotated[T | None, AfterValidator(refuse_null), _NotNullInSchema()]

STRICT_VALIDATORS = (iso_date, iso_datetime)
"""What makes a date field strict (tests/core/test_request_types.py looks for them)."""
