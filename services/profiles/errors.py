from __future__ import annotations

from services.core.errors import NotFound


class ProfileNotFound(NotFound):
    code = "profile_not_found"
