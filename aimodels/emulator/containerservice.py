"""Emulated Microsoft.ContainerService AI manager API (api-version 2026-08-02-preview).

Serves, under ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService``:
AI managers and namespaces (seeded: GET and LIST), model sources (synchronous CRUD), model
deployments (LROs), the AIModel catalog with calculateCost, listAccessInfo, and OpenAI-compatible
chat completions on each namespace gateway (``/inference/{aiManager}/{namespace}/v1``).

The work is split by resource (``containerservice_*.py``); this module assembles their routes and
seeds the parents named by fixture ``containerService.aiManagers``. ``seed_parents`` is the entry
point the embedded ``target: local`` uses to create the parents a Stack names.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from aimodels.emulator import (
    containerservice_catalog,
    containerservice_deployments,
    containerservice_inference,
    containerservice_parents,
    containerservice_sources,
)
from aimodels.emulator.containerservice_arm import API_VERSION
from aimodels.emulator.containerservice_parents import DEFAULT_NAMESPACES, seed_parents

__all__ = ["API_VERSION", "DEFAULT_NAMESPACES", "routes", "seed_parents"]


def routes(emu: Any) -> list[Route]:
    """Every Microsoft.ContainerService route, after seeding the fixture parents into the store."""
    containerservice_parents.seed_fixtures(emu)
    return [
        *containerservice_catalog.routes(emu),
        *containerservice_parents.routes(emu),
        *containerservice_sources.routes(emu),
        *containerservice_deployments.routes(emu),
        *containerservice_inference.routes(emu),
    ]
