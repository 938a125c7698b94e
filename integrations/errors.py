"""The error hierarchy every vendor client raises; services map it to 503/502/404 problems."""

from __future__ import annotations

from typing import Any


class IntegrationError(Exception):
    """Base of every vendor failure."""

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message


class NotConfiguredError(IntegrationError):
    """The integration lacks a credential; `setting` names the missing setting."""

    def __init__(self, vendor: str, setting: str) -> None:
        super().__init__(vendor, f"not configured: set {setting}")
        self.setting = setting


class TransientError(IntegrationError):
    """Timeouts, connection failures, 429 and 5xx once retries are exhausted: try again later."""

    def __init__(
        self, vendor: str, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(vendor, message)
        self.status_code = status_code
        self.retry_after = retry_after


class RequestError(IntegrationError):
    """The vendor refused the request (4xx); `body` is its parsed error payload."""

    def __init__(self, vendor: str, status_code: int, message: str, body: Any = None) -> None:
        super().__init__(vendor, f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.body = body
        self.vendor_message = message


class NotFoundError(RequestError):
    """The vendor has no such object (404)."""


class WebhookSignatureError(IntegrationError):
    """An inbound webhook's signature is missing, malformed, stale or wrong."""
