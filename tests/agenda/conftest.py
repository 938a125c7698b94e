"""Cal.com deliveries shaped like the vendor's (tests/fixtures/calcom_webhook_*.json and the docs
examples), signed with the real HMAC, and the LiveKit settings a booked meeting needs."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.core.jobs import registered_handlers
from services.core.settings import Settings
from services.core.worker import Worker
from tests.meetings.conftest import KEY, SECRET, twirp  # noqa: F401  (the fake LiveKit server fixture)

WEBHOOK_SECRET = "whsec-calcom-test-secret"
CALCOM_KEY = "cal_live_test"
CALCOM_API = "https://api.cal.com/v2"
WEBHOOK = "/api/v1/webhooks/calcom"
FIXTURES = Path(__file__).parent.parent / "fixtures"
GUEST = "guest@example.com"


@pytest.fixture
def settings(settings: Settings, twirp: tuple[Any, str]) -> Settings:  # noqa: F811
    return settings.model_copy(
        update={
            "calcom_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "calcom_api_key": SecretStr(CALCOM_KEY),
            "livekit_url": twirp[1],
            "livekit_api_key": KEY,
            "livekit_api_secret": SecretStr(SECRET),
            "previsio_url": "https://app.foxeo.test/previsio",
        }
    )


def at(days: float, hour: int = 10) -> datetime:
    """A moment `days` from today at `hour`:00 UTC (bookings in the future, so they are 'next')."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def created(uid: str, start: datetime, *, email: str = GUEST, name: str = "Guest User", minutes: int = 30,
            delivered: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:  # fmt: skip
    """The docs' BOOKING_CREATED example (tests/fixtures) for another booking, attendee and time."""
    body: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / "calcom_webhook_booking_created.json").read_text()))
    body.pop("_source", None)
    body["createdAt"] = delivered
    payload = body["payload"]
    payload.update(uid=uid, startTime=_iso(start), endTime=_iso(start + timedelta(minutes=minutes)))
    payload["attendees"] = [{**payload["attendees"][0], "email": email, "name": name}]
    payload["responses"]["email"]["value"] = email
    payload["responses"]["name"]["value"] = name
    payload["responses"]["notes"] = {"label": "additional_notes", "value": "Je lance mon activité", "isHidden": False}
    return body


def rescheduled(
    old: dict[str, Any], new_uid: str, start: datetime, *, delivered: str = "2026-01-02T00:00:00.000Z"
) -> dict[str, Any]:
    """BOOKING_RESCHEDULED as the docs show it: `uid` the new booking, `rescheduleUid` the old one."""
    before = old["payload"]
    body = created(new_uid, start, email=before["attendees"][0]["email"], name=before["attendees"][0]["name"])
    body.update(triggerEvent="BOOKING_RESCHEDULED", createdAt=delivered)
    body["payload"].update(
        rescheduleUid=before["uid"], rescheduleId=before["bookingId"], rescheduleStartTime=before["startTime"],
        rescheduleEndTime=before["endTime"], bookingId=before["bookingId"] + 1,
    )  # fmt: skip
    return body


def cancelled(booking: dict[str, Any], reason: str, *, delivered: str = "2026-01-03T00:00:00.000Z") -> dict[str, Any]:
    """BOOKING_CANCELLED (tests/fixtures) for that booking."""
    body: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / "calcom_webhook_booking_cancelled.json").read_text()))
    body.pop("_source", None)
    body["createdAt"] = delivered
    payload = body["payload"]
    source = booking["payload"]
    for key in ("uid", "startTime", "endTime", "attendees", "title"):
        payload[key] = source[key]
    payload["cancellationReason"] = reason
    return body


def no_show(uid: str, absent: bool, *, delivered: str = "2026-01-04T00:00:00.000Z") -> dict[str, Any]:
    return {
        "triggerEvent": "BOOKING_NO_SHOW_UPDATED",
        "createdAt": delivered,
        "payload": {
            "message": f"{GUEST} {'marked' if absent else 'unmarked'} as no-show",
            "attendees": [{"email": GUEST, "noShow": absent}],
            "bookingUid": uid,
            "bookingId": 100,
        },
    }


def meeting_ended(booking: dict[str, Any]) -> dict[str, Any]:
    """MEETING_ENDED: the booking row flat at the top level (integrations-reference §2.1)."""
    source = booking["payload"]
    return {
        "triggerEvent": "MEETING_ENDED", "id": source["bookingId"], "uid": source["uid"], "userId": 10,
        "userPrimaryEmail": "organizer@example.com", "eventTypeId": 50, "title": source["title"],
        "startTime": source["startTime"], "endTime": source["endTime"], "location": source["location"],
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": source["endTime"], "status": "ACCEPTED",
        "metadata": {}, "user": {"email": "organizer@example.com", "name": "Organizer Name", "timeZone": "UTC"},
        "attendees": [{"id": 101, "email": a["email"], "name": a["name"], "timeZone": "UTC", "locale": "en"}
                      for a in source["attendees"]],
    }  # fmt: skip


def sign(raw: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def deliver(client: httpx.AsyncClient, body: dict[str, Any], *, signature: str | None = None) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Cal-Webhook-Version": "2021-10-20",
        "X-Cal-Signature-256": signature if signature is not None else sign(raw),
    }
    return await client.post(WEBHOOK, content=raw, headers=headers)


async def run_jobs(app: Any) -> None:
    await Worker(app.state.job_context, registered_handlers()).run_pending()
