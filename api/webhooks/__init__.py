"""Inbound webhooks (`/api/v1/webhooks/<sender>`): no user token, the sender's signature instead;
each applies its event under the service session."""

from __future__ import annotations

from fastapi import APIRouter

from api.webhooks import calcom, deepgram, livekit, stripe

WEBHOOK_ROUTERS: list[APIRouter] = [livekit.router, deepgram.router, calcom.router, stripe.router]
