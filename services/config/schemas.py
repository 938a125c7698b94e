from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.core.input_types import Int
from services.core.json_limits import JsonObject
from services.core.schemas import Timestamp

Dashboard = Literal["hub", "lab", "one"]
ClientDashboard = Literal["lab", "one"]
ModuleKind = Literal["socle", "metier", "specifique"]
ModuleKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,48}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")]


class ModuleRead(BaseModel):
    key: str
    name: str
    kind: ModuleKind
    version: str
    description: str
    dashboards: list[Dashboard]
    depends_on: list[str]
    default_for: list[ClientDashboard]
    position: int


class ModuleCreate(BaseModel):
    """A spécifique module, born from one client's need and reusable by others."""

    model_config = ConfigDict(extra="forbid")

    key: ModuleKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    version: Version = "1.0.0"
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    dashboards: list[Dashboard] = Field(min_length=1)
    depends_on: list[ModuleKey] = []
    position: Int = Field(100, ge=0, le=10000)


class ModuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    version: Version | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    dashboards: list[Dashboard] | None = Field(None, min_length=1)
    depends_on: list[ModuleKey] | None = None
    position: Int | None = Field(None, ge=0, le=10000)


class ClientConfigRead(BaseModel):
    client_id: UUID
    dashboard_type: ClientDashboard
    active_modules: list[str]
    theme: dict[str, Any]
    custom_config: dict[str, Any]
    updated_at: Timestamp


class ClientConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dashboard_type: ClientDashboard | None = None
    theme: JsonObject | None = None
    custom_config: JsonObject | None = None


class NavigationItem(BaseModel):
    key: str
    name: str
    kind: ModuleKind


class NavigationRead(BaseModel):
    dashboard: Dashboard
    client_id: UUID | None
    items: list[NavigationItem]
