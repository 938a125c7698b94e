"""What the Cal.com webhook and API v2 modules share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

VENDOR = "calcom"


class CalModel(BaseModel):
    # Cal.com adds fields often; keep them (extra="allow") rather than fail or lose them.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
