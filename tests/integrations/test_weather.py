"""Open-Meteo current weather and geocoding (respx), and the French WMO labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import respx

from integrations.errors import RequestError, TransientError
from integrations.weather import UNKNOWN_LABEL, WMO_LABELS_FR, OpenMeteoClient, weather_label

FORECAST = "https://api.open-meteo.com/v1/forecast"
GEOCODING = "https://geocoding-api.open-meteo.com/v1/search"

# Shaped like Open-Meteo's documented `current=` response (open-meteo.com/en/docs); no fixture exists.
FORECAST_BODY: dict[str, Any] = {
    "latitude": 48.86,
    "longitude": 2.3399997,
    "generationtime_ms": 0.05,
    "utc_offset_seconds": 7200,
    "timezone": "Europe/Paris",
    "timezone_abbreviation": "CEST",
    "elevation": 43.0,
    "current_units": {
        "time": "iso8601",
        "interval": "seconds",
        "temperature_2m": "°C",
        "weather_code": "wmo code",
        "is_day": "",
    },
    "current": {"time": "2026-06-12T14:15", "interval": 900, "temperature_2m": 21.4, "weather_code": 61, "is_day": 1},
}
# Shaped like the documented geocoding response (open-meteo.com/en/docs/geocoding-api).
GEOCODING_BODY: dict[str, Any] = {
    "results": [
        {
            "id": 2988507,
            "name": "Paris",
            "latitude": 48.85341,
            "longitude": 2.3488,
            "elevation": 42.0,
            "feature_code": "PPLC",
            "country_code": "FR",
            "admin1_id": 3012874,
            "admin2_id": 2968815,
            "timezone": "Europe/Paris",
            "population": 2138551,
            "postcodes": ["75001", "75002"],
            "country_id": 3017382,
            "country": "France",
            "admin1": "Île-de-France",
            "admin2": "Paris",
        }
    ],
    "generationtime_ms": 0.8,
}


async def _no_sleep(_: float) -> None:
    return None


def _client(**kwargs: Any) -> OpenMeteoClient:
    return OpenMeteoClient(sleep=_no_sleep, **kwargs)


async def test_current_weather() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(FORECAST).respond(200, json=FORECAST_BODY)
        weather = await _client().current(48.8566, 2.3522)
    request = route.calls.last.request
    assert request.method == "GET"
    assert dict(request.url.params) == {
        "latitude": "48.8566",
        "longitude": "2.3522",
        "current": "temperature_2m,weather_code,is_day",
        "timezone": "auto",
    }
    assert weather.temperature == 21.4
    assert weather.weather_code == 61
    assert weather.label == "Pluie faible"
    assert weather.is_day is True
    assert weather.timezone == "Europe/Paris"
    assert weather.time == datetime(2026, 6, 12, 14, 15)


async def test_geocode_city() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(GEOCODING).respond(200, json=GEOCODING_BODY)
        places = await _client().geocode("  Paris ", count=3, country_code="fr")
    assert dict(route.calls.last.request.url.params) == {
        "name": "Paris",
        "count": "3",
        "language": "fr",
        "format": "json",
        "countryCode": "FR",
    }
    assert len(places) == 1
    paris = places[0]
    assert (paris.name, paris.country_code, paris.region, paris.department) == (
        "Paris",
        "FR",
        "Île-de-France",
        "Paris",
    )
    assert (paris.latitude, paris.longitude) == (48.85341, 2.3488)
    assert paris.timezone == "Europe/Paris"
    assert paris.postcodes == ["75001", "75002"]


async def test_geocode_without_match_is_empty() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(GEOCODING).respond(200, json={"generationtime_ms": 0.3})
        assert await _client().geocode("Zzyzxqwv") == []


async def test_400_carries_open_meteo_reason() -> None:
    reason = "Parameter 'count' must be between 1 and 100"
    async with respx.mock(assert_all_called=True) as mock:
        mock.get(GEOCODING).respond(400, json={"error": True, "reason": reason})
        with pytest.raises(RequestError) as info:
            await _client().geocode("Lyon")
    assert info.value.vendor == "open-meteo"
    assert info.value.status_code == 400
    assert info.value.vendor_message == reason


async def test_5xx_is_retried_then_transient() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        route = mock.get(FORECAST).respond(503)
        with pytest.raises(TransientError):
            await _client().current(45.76, 4.83)
    assert route.call_count == 3


async def test_api_key_uses_customer_hosts() -> None:
    async with respx.mock(assert_all_called=True) as mock:
        forecast = mock.get("https://customer-api.open-meteo.com/v1/forecast").respond(200, json=FORECAST_BODY)
        geocoding = mock.get("https://customer-geocoding-api.open-meteo.com/v1/search").respond(
            200, json=GEOCODING_BODY
        )
        client = _client(api_key="om-key")
        await client.current(48.86, 2.34)
        await client.geocode("Paris")
    assert forecast.calls.last.request.url.params["apikey"] == "om-key"
    assert geocoding.calls.last.request.url.params["apikey"] == "om-key"


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (-90.5, 0), (0, 181), (float("nan"), 0)])
async def test_invalid_coordinates_are_refused_locally(lat: float, lon: float) -> None:
    async with respx.mock(assert_all_called=False) as mock:
        with pytest.raises(ValueError):
            await _client().current(lat, lon)
    assert not mock.calls


async def test_blank_city_is_refused_locally() -> None:
    with pytest.raises(ValueError):
        await _client().geocode("   ")


@pytest.mark.parametrize(
    ("code", "label"),
    [
        (0, "Ciel dégagé"),
        (1, "Principalement dégagé"),
        (2, "Partiellement nuageux"),
        (3, "Couvert"),
        (45, "Brouillard"),
        (48, "Brouillard givrant"),
        (53, "Bruine modérée"),
        (57, "Bruine verglaçante dense"),
        (65, "Pluie forte"),
        (66, "Pluie verglaçante faible"),
        (75, "Neige forte"),
        (77, "Grains de neige"),
        (80, "Averses de pluie faibles"),
        (82, "Averses de pluie violentes"),
        (85, "Averses de neige faibles"),
        (86, "Averses de neige fortes"),
        (95, "Orage"),
        (96, "Orage avec grêle légère"),
        (99, "Orage avec grêle forte"),
        (4, UNKNOWN_LABEL),
        (None, UNKNOWN_LABEL),
    ],
)
def test_wmo_labels(code: int | None, label: str) -> None:
    assert weather_label(code) == label


def test_every_wmo_code_has_a_label() -> None:
    documented = {
        0,
        1,
        2,
        3,
        45,
        48,
        51,
        53,
        55,
        56,
        57,
        61,
        63,
        65,
        66,
        67,
        71,
        73,
        75,
        77,
        80,
        81,
        82,
        85,
        86,
        95,
        96,
        99,
    }
    assert set(WMO_LABELS_FR) == documented
