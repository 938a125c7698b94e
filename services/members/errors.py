from __future__ import annotations

from services.core.errors import Conflict, NotFound


class MemberExists(Conflict):
    code = "member_exists"


class MemberNotFound(NotFound):
    code = "member_not_found"
