from __future__ import annotations

from services.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class MeetingNotFound(NotFound):
    code = "meeting_not_found"

    def __init__(self) -> None:
        super().__init__("no such meeting, or it is not yours to see")


class RecordingNotFound(NotFound):
    code = "recording_not_found"

    def __init__(self) -> None:
        super().__init__("no such recording in this meeting")


class MeetingForbidden(Forbidden):
    code = "meeting_forbidden"


class MeetingInvalid(Unprocessable):
    code = "meeting_invalid"


class ConsentMissing(Unprocessable):
    code = "recording_consent_missing"

    def __init__(self) -> None:
        super().__init__(
            "recording needs the participants' consent: record it first with"
            " POST /api/v1/meetings/{id}/consent (who agreed, when)",
            field="consent",
        )


class MeetingClosed(Conflict):
    code = "meeting_closed"


class RecordingConflict(Conflict):
    code = "recording_conflict"
