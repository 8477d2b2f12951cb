"""Where a command's HTTP calls go: the embedded emulator (``target: local``), an explicit
endpoint (``--endpoint`` / ``AIMODELS_ENDPOINT``), or real Azure through azure-identity."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aimodels.model.desired import DesiredState
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT, MODEL_SOURCE
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig


@contextlib.asynccontextmanager
async def connect(desired: DesiredState, endpoint: str | None,
                  **client_options: Any) -> AsyncIterator[AzureClient]:
    """An AzureClient for the Stack's target, with the embedded emulator running if needed."""
    stack = desired.stack
    if endpoint:
        config = ClientConfig(target=_target(stack.target), endpoint=endpoint)
        async with AzureClient.from_config(config, **client_options) as client:
            yield client
        return
    if stack.target != "local":
        config = ClientConfig(target="azure", registry_endpoint=stack.custom_model_registry)
        async with AzureClient.from_config(config, **client_options) as client:
            yield client
        return
    from aimodels.emulator.embedded import start_embedded

    running = start_embedded(stack, *parents_named(desired))
    try:
        config = ClientConfig(target="local", endpoint=running.url)
        async with AzureClient.from_config(config, **client_options) as client:
            yield client
    finally:
        running.stop()


def parents_named(desired: DesiredState) -> tuple[set[str], set[str]]:
    """The AI managers and Foundry accounts the resources name beyond the Stack's defaults."""
    managers = {str(r.spec["aiManager"]) for r in desired.resources.values()
                if r.kind in (MODEL_SOURCE, MODEL_DEPLOYMENT) and r.spec.get("aiManager")}
    accounts = {str(r.spec["account"]) for r in desired.resources.values()
                if r.kind == FOUNDRY_DEPLOYMENT and r.spec.get("account")}
    return managers, accounts


def _target(value: str) -> Any:
    return "local" if value == "local" else "azure"
