from __future__ import annotations

from services.core.errors import Forbidden, NotFound, Unprocessable


class NotificationNotFound(NotFound):
    code = "notification_not_found"

    def __init__(self) -> None:
        super().__init__("no such notification, or it is not yours")


class NotifyForbidden(Forbidden):
    code = "notify_forbidden"


class InvalidNotification(Unprocessable):
    code = "invalid_notification"
