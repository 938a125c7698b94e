from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from services.clients.schemas import Name, Phone, Siret, Temperature
from services.core.schemas import Timestamp
from services.meetings.schemas import JoinToken
from services.reminders.schemas import ReminderRead

LookupStatus = Literal["found", "not_found_kept_as_typed", "lookup_unavailable"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class CompanyRead(BaseModel):
    """The client's company as the SIRET lookup gave it (or the SIRET as typed, flagged)."""

    client_id: UUID
    siret: str
    siren: str
    lookup_status: LookupStatus
    source: Literal["insee", "recherche-entreprises"] | None
    legal_name: str | None
    address_lines: list[str]
    postal_code: str | None
    city: str | None
    naf_code: str | None
    creation_date: date | None
    headcount_bracket: str | None
    headcount_label: str | None
    vat_number: str | None
    looked_up_at: Timestamp | None
    updated_at: Timestamp


class ProspectStatusCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: Temperature
    note: Note | None = None


class ProspectStatusRead(BaseModel):
    id: UUID
    client_id: UUID
    temperature: Temperature
    note: str | None
    set_by: UUID | None
    created_at: Timestamp


class ProspectStatusSet(ProspectStatusRead):
    follow_ups: list[ReminderRead]  # scheduled by this status (the previous ones are cancelled)


class ConversionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["lab", "one"]
    note: Note | None = None


class ConversionRead(BaseModel):
    client_id: UUID  # the same client: its whole history stays attached
    from_status: Literal["prospect"]
    status: Literal["lab", "one"]
    dashboard_type: Literal["lab", "one"]
    cancelled_follow_ups: int


class PrevisioAppointment(BaseModel):
    title: str
    starts_at: Timestamp
    ends_at: Timestamp
    status: str


class PrevisioForm(BaseModel):
    """What the pre-visio page shows: this prospect's own appointment and answers, nothing else."""

    first_name: str | None
    appointment: PrevisioAppointment
    phone: str | None
    siret: str | None
    city: str | None
    submitted_at: Timestamp | None


class PrevisioAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Phone
    siret: Siret | None = None
    city: Name | None = None

    @model_validator(mode="after")
    def _siret_or_city(self) -> PrevisioAnswer:
        if self.siret is None and self.city is None:
            raise ValueError("give the SIRET of your company, or your city if you have none yet")
        return self


class PrevisioResult(BaseModel):
    company: CompanyRead | None
    join: JoinToken | None  # none when the appointment has no meeting room
