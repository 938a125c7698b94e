from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class ProjectNotFound(NotFound):
    code = "project_not_found"

    def __init__(self) -> None:
        super().__init__("no such project, or it is not yours to see")


class StepNotFound(NotFound):
    code = "project_step_not_found"

    def __init__(self) -> None:
        super().__init__("no such step in this project")


class TaskNotFound(NotFound):
    code = "project_task_not_found"

    def __init__(self) -> None:
        super().__init__("no such task in this project")


class TemplateNotFound(NotFound):
    code = "journey_template_not_found"

    def __init__(self) -> None:
        super().__init__("no such journey template")


class ProjectTransitionInvalid(Conflict):
    """The project's or step's current status does not allow the change."""

    code = "project_transition_invalid"


class ProjectClosed(Conflict):
    code = "project_closed"


class StepUnderValidation(Conflict):
    code = "step_under_validation"


class JourneyNotAllowed(Conflict):
    code = "journey_not_allowed"


class TemplateArchived(Conflict):
    code = "journey_template_archived"


class StepOrderInvalid(Unprocessable):
    code = "step_order_invalid"
