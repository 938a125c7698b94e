"""Every module's router, discovered: a module adds `api/routers/<module>.py` exposing `router`."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

# Order of the docs: the foundation first, then every other module alphabetically.
_FIRST = ("profiles", "clients", "members", "config", "audit")
_SKIP = {"health"}


def _discover() -> list[APIRouter]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in _SKIP]
    ordered = [n for n in _FIRST if n in names] + sorted(n for n in names if n not in _FIRST)
    return [importlib.import_module(f"{__name__}.{name}").router for name in ordered]


ROUTERS: list[APIRouter] = _discover()
