from __future__ import annotations

from services.core.errors import Conflict, NotFound


class ClientNotFound(NotFound):
    code = "client_not_found"

    def __init__(self) -> None:
        super().__init__("no such client, or it is not yours to see")


class ClientAlreadyArchived(Conflict):
    code = "client_already_archived"


class ClientNotArchived(Conflict):
    code = "client_not_archived"


class ClientStatusChangeRefused(Conflict):
    code = "client_status_change_refused"
