"""The app's API routes as they are served: FastAPI ≥ 0.13x keeps included routers lazy
(`app.routes` holds one entry per included router, not its routes), so the routes are walked the way
the OpenAPI generator walks them, each with its full path (prefix included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class ServedRoute:
    path: str  # as served, prefix included
    route: APIRoute  # the route object the request scope carries (tests/contract_check.py keys on it)

    @property
    def methods(self) -> set[str]:
        return set(self.route.methods or ())

    def checked_key(self, method: str) -> str:
        """The key tests/contract_check.py records for this route."""
        return f"{method} {self.route.path}"


def api_routes(app: FastAPI) -> Iterator[ServedRoute]:
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path is not None:
            yield ServedRoute(context.path, context.original_route)
