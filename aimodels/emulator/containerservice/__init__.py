"""Emulated Microsoft.ContainerService AI manager API (api-version 2026-08-02-preview).

Serves, under ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService``:
AI managers and namespaces (seeded: GET and LIST), model sources (synchronous CRUD), model
deployments (LROs), the AIModel catalog with calculateCost, listAccessInfo, and OpenAI-compatible
chat completions on each namespace gateway (``/inference/{aiManager}/{namespace}/v1``).

The work is split by resource (the modules of this package); this module assembles their routes and
seeds the parents named by fixture ``containerService.aiManagers``. ``seed_parents`` is the entry
point the embedded ``target: local`` uses to create the parents a Stack names.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from aimodels.emulator.containerservice import (
    catalog,
    deployments,
    inference,
    parents,
    sources,
)
from aimodels.emulator.containerservice.arm import API_VERSION
from aimodels.emulator.containerservice.parents import DEFAULT_NAMESPACES, seed_parents

__all__ = ["API_VERSION", "DEFAULT_NAMESPACES", "routes", "seed_parents"]


def routes(emu: Any) -> list[Route]:
    """Every Microsoft.ContainerService route, after seeding the fixture parents into the store."""
    parents.seed_fixtures(emu)
    return [
        *catalog.routes(emu),
        *parents.routes(emu),
        *sources.routes(emu),
        *deployments.routes(emu),
        *inference.routes(emu),
    ]
