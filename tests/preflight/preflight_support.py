"""Helpers of the pre-flight tests: a bare Stack, hand-made changes, and run_preflight over
HTTP. Kept out of conftest.py so test modules import them by a unique module name."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.live.preflight import run_preflight
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState, Stack
from aimodels.plan.values import Action, Change, LiveState, Plan, Reason
from aimodels.transport.client import AzureClient, HttpEvent
from aimodels.transport.config import ClientConfig

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-quickstart"


def stack(location: str = "eastus") -> Stack:
    return Stack(name="s", target="azure", subscription_id=SUB, resource_group=RG,
                 location=location, source=SourceLocation("stack.yaml", 1, 1),
                 base_dir=Path("."), ai_manager="quickstart", foundry_account="quickstart-foundry")


def change(address: str, action: Action = Action.CREATE, after: dict[str, Any] | None = None,
           before: dict[str, Any] | None = None) -> Change:
    reasons = {Action.CREATE: (Reason.CREATE_BECAUSE_NOT_IN_LIVE,),
               Action.UPDATE: (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,),
               Action.REPLACE: (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,),
               Action.DELETE: (Reason.DELETE_BECAUSE_NOT_IN_MANIFEST,)}.get(action, ())
    replace_paths = ("vmSize",) if action is Action.REPLACE else ()
    return Change(ResourceAddress.parse(address), action, reasons, before=before, after=after,
                  replace_paths=replace_paths)


def foundry(name: str, model: str, version: str | None, sku: str, capacity: int | None,
            fmt: str = "OpenAI", account: str = "quickstart-foundry",
            action: Action = Action.CREATE, before: dict[str, Any] | None = None) -> Change:
    spec = {"account": account, "model": {"format": fmt, "name": model},
            "sku": {"name": sku}}
    if version:
        spec["model"]["version"] = version
    if capacity is not None:
        spec["sku"]["capacity"] = capacity
    return change(f"FoundryDeployment/{name}", action, spec, before)


def model_deployment(name: str, vm: str, replicas: int | None = 1,
                     catalog: str = "microsoft/Phi-4-mini-instruct",
                     autoscale: dict[str, int] | None = None) -> dict[str, Any]:
    scale = {"autoscale": autoscale} if autoscale else {"replicas": replicas}
    return {"aiManager": "quickstart", "namespace": "default", "model": {"catalog": catalog},
            "vmSize": vm, "performanceMode": "Balanced", "scale": scale}


def preflight(url: str, *changes: Change, location: str = "eastus",
              on_http: Callable[[HttpEvent], None] | None = None) -> Plan:
    """run_preflight over HTTP on a plan of ``changes`` (no manifests: a bare Stack)."""
    desired = DesiredState(stack(location), {})

    async def main() -> Plan:
        config = ClientConfig(target="local", endpoint=url)
        async with AzureClient.from_config(config, on_http=on_http) as client:
            return await run_preflight(Plan.build(changes), desired, LiveState(), client)

    return asyncio.run(main())


def only_errors(plan: Plan) -> list[Any]:
    return [d for d in plan.diagnostics if d.severity.value == "error"]
