from __future__ import annotations

from services.core.errors import Conflict, NotFound


class JobNotFound(NotFound):
    code = "job_not_found"

    def __init__(self) -> None:
        super().__init__("no such job")


class JobNotRetryable(Conflict):
    code = "job_not_retryable"
