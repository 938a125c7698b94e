from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class TranscriptNotFound(NotFound):
    code = "transcript_not_found"

    def __init__(self) -> None:
        super().__init__("no such transcript")


class SummaryMissing(Conflict):
    code = "transcript_summary_missing"


class ActionItemInvalid(Unprocessable):
    code = "action_item_invalid"


class ActionItemAlreadyAccepted(Conflict):
    code = "action_item_already_accepted"
