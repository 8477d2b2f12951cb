"""A collection that answers 404 becomes a pre-flight error per declared resource in it, saying
which parent is missing; the registry's top-level collection has no parent to name."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.live.reader import read_live
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState, Stack
from aimodels.model.kinds import CUSTOM_MODEL, MODEL_DEPLOYMENT
from aimodels.providers.registry import default_registry
from aimodels.transport.errors import NotFoundError

STACK = Stack(name="s", target="azure", subscription_id="sub-1", resource_group="rg-1",
              location="eastus", source=SourceLocation("s.yaml"), base_dir=Path("."),
              ai_manager="m", foundry_account="f")


class _NothingThere:
    """Answers 404 to every list."""

    async def list_all(self, url: str, *, api: str = "arm") -> list[Any]:
        raise NotFoundError(f"Not found: GET {url}", code="NotFound", status=404)


def _problems(*resources: DesiredResource) -> dict[str, tuple[str, str]]:
    desired = DesiredState(STACK, {r.address: r for r in resources})
    found = asyncio.run(read_live(desired, {}, _NothingThere(),  # type: ignore[arg-type]
                                  registry=default_registry()))
    assert not found.live.objects
    return {d.address: (d.summary, d.detail) for d in found.diagnostics}


def test_each_resource_of_a_missing_collection_names_its_parent() -> None:
    deployment = DesiredResource(ResourceAddress(MODEL_DEPLOYMENT, "chat"),
                                 {"namespace": "dev", "model": {"catalog": "a/b"},
                                  "vmSize": "Standard_NC24ads_A100_v4"},
                                 SourceLocation("m.yaml"), Path("."))
    weights = DesiredResource(ResourceAddress(CUSTOM_MODEL, "tiny"),
                              {"path": "https://example.com/w.safetensors", "version": "1"},
                              SourceLocation("c.yaml"), Path("."))
    problems = _problems(deployment, weights)
    message, hint = problems["ModelDeployment/chat"]
    assert message == "its parent namespace 'dev' does not exist"
    assert hint.endswith("Looked for: /subscriptions/sub-1/resourceGroups/rg-1/providers/"
                         "Microsoft.ContainerService/aiManagers/m/namespaces/dev")
    message, hint = problems["CustomModel/tiny"]
    assert message == "the endpoint has no /custom-models collection (it answered 404)"
    assert "custom-model registry is not where the Stack says" in hint
