"""Typed service errors; the API maps each to an RFC 9457 problem with a stable `code`."""

from __future__ import annotations

from typing import Any, ClassVar


class FoxeoError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(FoxeoError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(FoxeoError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(FoxeoError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(FoxeoError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(FoxeoError):
    status, code, title = 422, "unprocessable", "Unprocessable request"


class PayloadTooLarge(FoxeoError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class ServiceUnavailable(FoxeoError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


class IntegrationNotConfigured(ServiceUnavailable):
    code = "integration_not_configured"

    def __init__(self, vendor: str, setting: str) -> None:
        super().__init__(f"{vendor} is not configured: set {setting}", setting=setting)
