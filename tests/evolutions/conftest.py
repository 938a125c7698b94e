"""The `pj` and `reachable_operator` fixtures (see tests/projects/kit.py)."""

from tests.projects.kit import pj, reachable_operator  # noqa: F401
