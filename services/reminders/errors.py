from __future__ import annotations

from services.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class ReminderNotFound(NotFound):
    code = "reminder_not_found"

    def __init__(self) -> None:
        super().__init__("no such reminder, or it is not yours to see")


class ReminderNotPending(Conflict):
    code = "reminder_not_pending"


class ReminderInvalid(Unprocessable):
    code = "reminder_invalid"


class ReminderForbidden(Forbidden):
    """Only the operator (or a job, webhook or command in a service session) schedules reminders and
    queues e-mails."""

    code = "reminder_forbidden"


class EmailNotFound(NotFound):
    code = "email_not_found"

    def __init__(self) -> None:
        super().__init__("no such e-mail in the outbox")
