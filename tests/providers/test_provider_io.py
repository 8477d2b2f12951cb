"""What a kind tells the I/O layers about itself: the collection the live reader lists, the
writer family apply sends with, the id and the manifest a listed body exports as. The reader
acts on what the registry it is handed says, never on a kind name of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.live.reader import read_live
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState, Stack
from aimodels.model.kinds import CUSTOM_MODEL, FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT, MODEL_SOURCE
from aimodels.plan.provider import (
    ExportContext,
    ListCollection,
    ProviderRegistry,
    WriterFamily,
)
from aimodels.providers.modeldeployment import ModelDeploymentProvider
from aimodels.providers.registry import default_registry

STACK = Stack(name="t", target="azure", subscription_id="sub-1", resource_group="rg-1",
              location="eastus", source=SourceLocation("s.yaml"), base_dir=Path("."),
              ai_manager="team-alpha", foundry_account="alpha-foundry")
REGISTRY = default_registry()
GROUP = "/subscriptions/sub-1/resourceGroups/rg-1/providers"
MANAGER = f"{GROUP}/Microsoft.ContainerService/aiManagers/team-alpha"


def test_each_kind_names_its_writer_family() -> None:
    assert {kind: REGISTRY.for_kind(kind).writer for kind in REGISTRY.by_kind} == {
        MODEL_SOURCE: WriterFamily.ARM, MODEL_DEPLOYMENT: WriterFamily.ARM,
        FOUNDRY_DEPLOYMENT: WriterFamily.COGNITIVE, CUSTOM_MODEL: WriterFamily.REGISTRY}


def test_an_arm_kind_is_listed_in_its_parent_and_a_custom_model_in_the_registry() -> None:
    deployment = f"{MANAGER}/namespaces/prod/modelDeployments/chat"
    md = ResourceAddress(MODEL_DEPLOYMENT, "chat")
    cm = ResourceAddress(CUSTOM_MODEL, "tuned")
    assert REGISTRY.for_address(md).collection(md, deployment) == \
        ListCollection(f"{MANAGER}/namespaces/prod/modelDeployments", "arm")
    assert REGISTRY.for_address(cm).collection(cm, "/custom-models/tuned") == \
        ListCollection("/custom-models", "registry")


def test_a_listed_body_says_where_it_lives() -> None:
    arm = {"id": f"{MANAGER}/modelSources/hf", "name": "hf"}
    assert REGISTRY.for_kind(MODEL_SOURCE).listed_id(arm) == arm["id"]
    assert REGISTRY.for_kind(CUSTOM_MODEL).listed_id({"name": "tuned"}) == \
        "/custom-models/tuned"


def test_export_leaves_out_the_stack_default_and_never_the_secret() -> None:
    body = {"id": f"{MANAGER}/modelSources/hf-private", "name": "hf-private",
            "properties": {"sourceType": "HuggingFace",
                           "credential": {"inline": {"type": "Inline"}}}}
    exported = REGISTRY.for_kind(MODEL_SOURCE).export(body, ExportContext(STACK))
    assert exported.spec == {"sourceType": "HuggingFace",
                             "credential": {"fromEnv": "CHANGE_ME_HF_PRIVATE_TOKEN"}}
    assert "credential" in exported.notes


def test_export_puts_a_catalog_name_back_from_the_context() -> None:
    model_id = ("/subscriptions/sub-1/providers/Microsoft.ContainerService/locations/eastus/"
                "aiModels/9806f0c862fdd920")
    body = {"id": f"{MANAGER}/namespaces/prod/modelDeployments/chat", "name": "chat",
            "properties": {"modelResourceId": model_id, "vmSize": "Standard_NC24ads_A100_v4"}}
    provider = REGISTRY.for_kind(MODEL_DEPLOYMENT)
    known = provider.export(body, ExportContext(
        STACK, {"9806f0c862fdd920": "microsoft/Phi-4-mini-instruct"}))
    unknown = provider.export(body, ExportContext(STACK))
    assert known.spec["model"] == {"catalog": "microsoft/Phi-4-mini-instruct"}
    assert "aiManager" not in known.spec and known.notes == {}
    assert unknown.spec["model"] == {"catalog": model_id} and "model" in unknown.notes


class _ElsewhereProvider(ModelDeploymentProvider):
    """A ModelDeployment listed in a collection of another API: what a new kind could say."""

    def collection(self, address: ResourceAddress, resource_id: str) -> ListCollection:
        return ListCollection("/elsewhere", "registry")


@dataclass
class _ListingClient:
    """Answers every list with one item named ``chat``, and records what was listed."""

    listed: list[tuple[str, str]] = field(default_factory=list)

    async def list_all(self, url: str, *, api: str = "arm") -> list[Mapping[str, Any]]:
        self.listed.append((url, api))
        return [{"id": f"{url}/chat", "name": "chat", "properties": {}}]


def test_the_reader_lists_the_collection_the_registry_names() -> None:
    address = ResourceAddress(MODEL_DEPLOYMENT, "chat")
    resource = DesiredResource(address, {"namespace": "prod", "model": {"catalog": "a/b"}},
                               SourceLocation("m.yaml"), Path("."))
    desired = DesiredState(STACK, {address: resource})
    client = _ListingClient()
    registry = ProviderRegistry.of([_ElsewhereProvider()])
    found = asyncio.run(read_live(desired, {}, client, registry=registry))  # type: ignore[arg-type]
    assert client.listed == [("/elsewhere", "registry")]
    assert found.live.objects[address].body["id"] == "/elsewhere/chat"
