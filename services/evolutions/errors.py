from __future__ import annotations

from services.core.errors import Conflict, NotFound


class EvolutionNotFound(NotFound):
    code = "evolution_not_found"

    def __init__(self) -> None:
        super().__init__("no such evolution request, or it is not yours to see")


class EvolutionTransitionInvalid(Conflict):
    code = "evolution_transition_invalid"


class EvolutionsNotAvailable(Conflict):
    code = "evolutions_not_available"
