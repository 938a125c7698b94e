"""Open-Meteo: current weather by coordinates and city geocoding, with French labels for WMO codes.

No key is needed on the free tier; that tier is for non-commercial use, so an `api_key` switches to the
`customer-` hosts Open-Meteo gives paying customers.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from integrations._http import RetryPolicy, VendorHTTP
from integrations.errors import IntegrationError

VENDOR = "open-meteo"
FORECAST_BASE_URL = "https://api.open-meteo.com/v1"
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
CUSTOMER_FORECAST_BASE_URL = "https://customer-api.open-meteo.com/v1"
CUSTOMER_GEOCODING_URL = "https://customer-geocoding-api.open-meteo.com/v1/search"

WMO_LABELS_FR: dict[int, str] = {
    0: "Ciel dégagé",
    1: "Principalement dégagé",
    2: "Partiellement nuageux",
    3: "Couvert",
    45: "Brouillard",
    48: "Brouillard givrant",
    51: "Bruine légère",
    53: "Bruine modérée",
    55: "Bruine dense",
    56: "Bruine verglaçante légère",
    57: "Bruine verglaçante dense",
    61: "Pluie faible",
    63: "Pluie modérée",
    65: "Pluie forte",
    66: "Pluie verglaçante faible",
    67: "Pluie verglaçante forte",
    71: "Neige faible",
    73: "Neige modérée",
    75: "Neige forte",
    77: "Grains de neige",
    80: "Averses de pluie faibles",
    81: "Averses de pluie modérées",
    82: "Averses de pluie violentes",
    85: "Averses de neige faibles",
    86: "Averses de neige fortes",
    95: "Orage",
    96: "Orage avec grêle légère",
    99: "Orage avec grêle forte",
}
UNKNOWN_LABEL = "Conditions inconnues"


def weather_label(code: int | None) -> str:
    """French label of a WMO weather code (the `weather_code` Open-Meteo returns)."""
    return WMO_LABELS_FR.get(code, UNKNOWN_LABEL) if code is not None else UNKNOWN_LABEL


class CurrentWeather(BaseModel):
    latitude: float
    longitude: float
    time: datetime | None = None
    timezone: str | None = None
    temperature: float | None = Field(description="°C at 2 m")
    weather_code: int | None
    label: str
    is_day: bool | None = None


class Place(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    name: str
    latitude: float
    longitude: float
    country: str | None = None
    country_code: str | None = None
    region: str | None = Field(default=None, validation_alias="admin1")
    department: str | None = Field(default=None, validation_alias="admin2")
    postcodes: list[str] = Field(default_factory=list)
    timezone: str | None = None
    population: int | None = None
    elevation: float | None = None


def _check_coordinates(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and -90.0 <= latitude <= 90.0):
        raise ValueError("latitude must be within [-90, 90]")
    if not (math.isfinite(longitude) and -180.0 <= longitude <= 180.0):
        raise ValueError("longitude must be within [-180, 180]")


class OpenMeteoClient:
    def __init__(
        self,
        api_key: str | None = None,
        *,
        forecast_base_url: str | None = None,
        geocoding_url: str | None = None,
        timeout: httpx.Timeout = httpx.Timeout(8.0, connect=4.0),
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._api_key = api_key or None
        default_forecast = CUSTOMER_FORECAST_BASE_URL if self._api_key else FORECAST_BASE_URL
        default_geocoding = CUSTOMER_GEOCODING_URL if self._api_key else GEOCODING_URL
        self.geocoding_url = geocoding_url or default_geocoding
        # Geocoding lives on another host: one client, absolute URL for it.
        self.http = VendorHTTP(
            VENDOR,
            forecast_base_url or default_forecast,
            headers={"Accept": "application/json"},
            timeout=timeout,
            retry=retry,
            transport=transport,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def current(self, latitude: float, longitude: float, *, timezone: str = "auto") -> CurrentWeather:
        """Current temperature (°C) and weather code at a point."""
        _check_coordinates(latitude, longitude)
        body = await self._get(
            "/forecast",
            {
                "latitude": latitude,
                "longitude": longitude,
                "current": "temperature_2m,weather_code,is_day",
                "timezone": timezone,
            },
        )
        current = body.get("current")
        if not isinstance(current, dict):
            raise IntegrationError(VENDOR, "forecast response has no `current` block")
        code = current.get("weather_code")
        code = int(code) if isinstance(code, int | float) else None
        is_day = current.get("is_day")
        return CurrentWeather(
            latitude=body.get("latitude", latitude),
            longitude=body.get("longitude", longitude),
            time=current.get("time"),
            timezone=body.get("timezone"),
            temperature=current.get("temperature_2m"),
            weather_code=code,
            label=weather_label(code),
            is_day=bool(is_day) if is_day is not None else None,
        )

    async def geocode(
        self, name: str, *, count: int = 5, language: str = "fr", country_code: str | None = None
    ) -> list[Place]:
        """Places matching a city name or postcode, best first; [] when nothing matches."""
        name = name.strip()
        if not name:
            raise ValueError("name is required")
        if not 1 <= count <= 100:
            raise ValueError("count must be within [1, 100]")
        params: dict[str, Any] = {"name": name, "count": count, "language": language, "format": "json"}
        if country_code:
            params["countryCode"] = country_code.upper()
        body = await self._get(self.geocoding_url, params)
        # No match is a 200 without a `results` key at all.
        return [Place.model_validate(item) for item in body.get("results") or []]

    async def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        if self._api_key:
            params = {**params, "apikey": self._api_key}
        # Errors are `{"error": true, "reason": "..."}`: the shared layer's _error_message reads `reason`.
        body = await self.http.json("GET", url, params=params)
        if not isinstance(body, dict):
            raise IntegrationError(VENDOR, "unexpected Open-Meteo response")
        return body
