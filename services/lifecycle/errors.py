from __future__ import annotations

from services.core.errors import Conflict


class AlreadyInTargetState(Conflict):
    """Graduating a One client, or reopening the Lab of a Lab client."""

    code = "lifecycle_already_in_state"


class LifecycleNotAllowed(Conflict):
    code = "lifecycle_not_allowed"
