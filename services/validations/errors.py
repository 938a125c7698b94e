from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class ValidationNotFound(NotFound):
    code = "validation_not_found"

    def __init__(self) -> None:
        super().__init__("no such validation request, or it is not yours to see")


class ValidationAlreadyDecided(Conflict):
    """This round already has its decision (decisions are final), or the request is no longer pending."""

    code = "validation_already_decided"


class ValidationStaleRound(Conflict):
    code = "validation_stale_round"


class StepNotSubmittable(Conflict):
    code = "step_not_submittable"


class DocumentsNotAttachable(Unprocessable):
    code = "documents_not_attachable"
