"""What every webhook answers its sender."""

from __future__ import annotations

from pydantic import BaseModel


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool  # already handled: nothing was done again
