from __future__ import annotations

import re
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from services.core.input_types import IsoDate, Omittable
from services.core.schemas import Timestamp
from services.core.validation import Tags

ClientStatus = Literal["prospect", "lab", "one", "archived"]
ActiveStatus = Literal["prospect", "lab", "one"]
Temperature = Literal["hot", "warm", "cold", "no"]
ClientSort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "company_name", "-company_name"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .()\-]{6,30}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https?://\S+$")]


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _check_siret(value: str) -> str:
    value = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[0-9]{14}", value):
        raise ValueError("SIRET must be 14 digits")
    # La Poste's establishments (SIREN 356000000) use a digit-sum rule instead of Luhn.
    if value.startswith("356000000"):
        if sum(int(c) for c in value) % 5:
            raise ValueError("SIRET check digit is wrong")
    elif not luhn_valid(value):
        raise ValueError("SIRET check digit is wrong (Luhn)")
    return value


Siret = Annotated[str, AfterValidator(_check_siret)]


class CrmProfile(BaseModel):
    """The operator's private relationship notes about a client (never shown to the client)."""

    model_config = ConfigDict(extra="forbid")

    photo_url: Url | None = None
    birthday: IsoDate | None = None
    personal_notes: LongText | None = None
    background: LongText | None = None
    notes: LongText | None = None


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_name: Text
    status: ActiveStatus = "prospect"
    prospect_temperature: Temperature | None = None
    contact_first_name: Name | None = None
    contact_last_name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    city: Name | None = None
    siret: Siret | None = None
    tags: Tags = []
    crm: CrmProfile | None = None


class ClientUpdate(BaseModel):
    """Only the fields sent are changed; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    company_name: Omittable[Text] = None
    status: Omittable[ActiveStatus] = None
    prospect_temperature: Temperature | None = None
    contact_first_name: Name | None = None
    contact_last_name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    city: Name | None = None
    siret: Siret | None = None
    tags: Omittable[Tags] = None
    crm: CrmProfile | None = None


class ClientRead(BaseModel):
    id: UUID
    status: ClientStatus
    prospect_temperature: Temperature | None
    company_name: str
    contact_first_name: str | None
    contact_last_name: str | None
    email: str | None
    phone: str | None
    city: str | None
    siret: str | None
    tags: list[str]
    archived_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class ClientDetail(ClientRead):
    crm: CrmProfile | None = Field(None, description="Operator only; always null for client users")
