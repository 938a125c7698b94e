from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unauthorized, Unprocessable


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"

    def __init__(self) -> None:
        super().__init__("no such appointment, or it is not yours to see")


class AppointmentInvalid(Unprocessable):
    code = "appointment_invalid"


class AppointmentClosed(Conflict):
    code = "appointment_closed"


class PrevisioLinkInvalid(Unauthorized):
    code = "previsio_link_invalid"
