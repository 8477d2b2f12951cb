"""The live reader starts the collections with the most resources first: they are the likeliest
to have several pages, which come one after another, so starting them last would leave one
slow collection running alone at the end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.live.reader import largest_first, read_live
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState, Stack
from aimodels.model.kinds import MODEL_DEPLOYMENT
from aimodels.plan.provider import ListCollection
from aimodels.providers.registry import default_registry

STACK = Stack(name="s", target="azure", subscription_id="sub-1", resource_group="rg-1",
              location="eastus", source=SourceLocation("s.yaml"), base_dir=Path("."),
              ai_manager="m", foundry_account="f")


@dataclass
class _Recorder:
    """Lists nothing, and records the order it was asked in."""

    listed: list[str] = field(default_factory=list)

    async def list_all(self, url: str, *, api: str = "arm") -> list[Any]:
        self.listed.append(url.rsplit("/namespaces/", 1)[1].split("/")[0])
        return []


def _deployment(name: str, namespace: str) -> DesiredResource:
    return DesiredResource(ResourceAddress(MODEL_DEPLOYMENT, name),
                           {"namespace": namespace, "model": {"catalog": "a/b"},
                            "vmSize": "Standard_NC24ads_A100_v4"},
                           SourceLocation("m.yaml"), Path("."))


def test_the_biggest_collection_is_listed_first_then_by_url() -> None:
    layout = {"aa": 1, "bb": 3, "cc": 2, "dd": 3}
    resources = [_deployment(f"{ns}-{i}", ns) for ns, count in layout.items() for i in range(count)]
    desired = DesiredState(STACK, {r.address: r for r in resources})
    client = _Recorder()
    # One slot: the calls come in the order the listings were started.
    asyncio.run(read_live(desired, {}, client, registry=default_registry(),  # type: ignore[arg-type]
                          parallelism=1))
    assert client.listed == ["bb", "dd", "cc", "aa"]


def test_largest_first_orders_by_size_then_collection() -> None:
    a, b, c = ListCollection("/a"), ListCollection("/b"), ListCollection("/c")
    assert largest_first({c: [1], b: [1, 2], a: [1]}) == [b, a, c]
