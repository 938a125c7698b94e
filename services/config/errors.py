from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class ModuleNotFound(NotFound):
    code = "module_not_found"


class ModuleExists(Conflict):
    code = "module_exists"


class ModuleRuleViolation(Unprocessable):
    """Compatibility, dependency or socle rules refuse the change; the detail says which."""

    code = "module_rule_violation"


class ConfigNotFound(NotFound):
    code = "client_config_not_found"
