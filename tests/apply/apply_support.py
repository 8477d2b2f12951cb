"""A harness for apply tests: desired states built in code, plans made the way ``plan`` makes
them (state → prior, live read, make_plan), and apply_plan run against a real emulator over
HTTP. Nothing of ours is patched; the emulator is the only Azure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aimodels.apply.events import ApplyEvent, ApplyResult
from aimodels.apply.executor import ApplyOptions, apply_plan
from aimodels.apply.operations import ConflictRetry
from aimodels.apply.state_store import StateStore
from aimodels.errors import SourceLocation
from aimodels.live.reader import read_live
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState, Lifecycle, Stack
from aimodels.plan.planner import make_plan
from aimodels.plan.values import Plan
from aimodels.providers.registry import default_registry
from aimodels.service.inputs import resolve_inputs, secret_values
from aimodels.service.planning import prior_resources
from aimodels.state.local import read_state
from aimodels.state.values import State
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig, LroPolicy

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-quickstart"
AI_MANAGER = "quickstart"
ACCOUNT = "quickstart-foundry"
OTHER_ACCOUNT = "alpha-foundry-we"
ARM_PREFIX = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers"
FAST_RETRY = ConflictRetry(base_delay=0.05, max_delay=0.2, budget=30.0)


def address(text: str) -> ResourceAddress:
    return ResourceAddress.parse(text)


def resource(kind: str, name: str, spec: Mapping[str, Any], base_dir: Path,
             prevent_destroy: bool = False) -> DesiredResource:
    return DesiredResource(ResourceAddress(kind, name), dict(spec),
                           SourceLocation("test.yaml"), base_dir,
                           lifecycle=Lifecycle(prevent_destroy=prevent_destroy))


def model_source(name: str = "hf", **spec: Any) -> tuple[str, str, dict[str, Any]]:
    return "ModelSource", name, {"sourceType": "HuggingFace", **spec}


def model_deployment(name: str = "chat", **spec: Any) -> tuple[str, str, dict[str, Any]]:
    return "ModelDeployment", name, {
        "namespace": "default", "model": {"catalog": "microsoft/Phi-4-mini-instruct"},
        "vmSize": "Standard_NC24ads_A100_v4", "scale": {"replicas": 1}, **spec}


def foundry_deployment(name: str = "gpt", **spec: Any) -> tuple[str, str, dict[str, Any]]:
    return "FoundryDeployment", name, {
        "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
        "sku": {"name": "GlobalStandard", "capacity": 10}, **spec}


def custom_model(name: str, path: str, **spec: Any) -> tuple[str, str, dict[str, Any]]:
    return "CustomModel", name, {"path": path, "format": "safetensors", "version": "1.0", **spec}


@dataclass
class Harness:
    """One stack folder (state under ``folder/.aimodels``) and one emulator URL."""

    url: str
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    events: list[ApplyEvent] = field(default_factory=list)
    #: ``LroPolicy.timeout`` of the client, and its sleeper (the transport's injection point).
    lro_timeout: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    #: The client's network (None: httpx's own), for tests that lose answers on the way.
    transport: httpx.AsyncBaseTransport | None = None

    @property
    def state_path(self) -> Path:
        return self.folder / ".aimodels" / "state.json"

    def stack(self) -> Stack:
        return Stack(name="test", target="local", subscription_id=SUBSCRIPTION,
                     resource_group=RESOURCE_GROUP, location="eastus",
                     source=SourceLocation("stack.yaml"), base_dir=self.folder,
                     ai_manager=AI_MANAGER, foundry_account=ACCOUNT)

    def desired(self, *docs: tuple[str, str, dict[str, Any]],
                guarded: tuple[str, ...] = ()) -> DesiredState:
        resources = {}
        for kind, name, spec in docs:
            res = resource(kind, name, spec, self.folder, f"{kind}/{name}" in guarded)
            resources[res.address] = res
        return DesiredState(self.stack(), dict(sorted(resources.items())))

    def state(self) -> State:
        return read_state(self.state_path)

    def client(self) -> AzureClient:
        config = ClientConfig(target="local", endpoint=self.url,
                              lro=LroPolicy(default_poll_interval=0.05, timeout=self.lro_timeout))
        return AzureClient.from_config(config, sleep=self.sleep, transport=self.transport)

    def plan(self, desired: DesiredState) -> Plan:
        return asyncio.run(self._plan(desired))

    async def _plan(self, desired: DesiredState) -> Plan:
        state = self.state()
        prior = prior_resources(state)
        inputs = resolve_inputs(desired, state, self.env)
        async with self.client() as client:
            found = await read_live(desired, prior, client, registry=default_registry(),
                                    inputs=inputs)
        plan = make_plan(desired, found.live, prior, registry=default_registry(), inputs=inputs,
                         state_lineage=state.lineage, state_serial=state.serial)
        return plan.with_diagnostics(found.diagnostics)

    def apply(self, plan: Plan, desired: DesiredState, **options: Any) -> ApplyResult:
        return asyncio.run(self._apply(plan, desired, **options))

    async def _apply(self, plan: Plan, desired: DesiredState, **options: Any) -> ApplyResult:
        store = StateStore(self.state_path, self.state())
        settings = ApplyOptions(secrets=secret_values(desired, self.env),
                                conflict_retry=FAST_RETRY, **options)
        async with self.client() as client:
            return await apply_plan(plan, desired, client, store, self.events.append, settings,
                                    registry=default_registry())

    def converge(self, desired: DesiredState) -> ApplyResult:
        """Plan and apply; the apply must be complete."""
        result = self.apply(self.plan(desired), desired)
        assert result.complete, [(str(c.address), c.message) for c in result.changes]
        return result

    def events_of(self, text: str) -> list[ApplyEvent]:
        return [e for e in self.events if str(e.address) == text]


def arm(session: httpx.Client, method: str, path: str, body: Any = None,
        version: str = "2026-08-02-preview") -> httpx.Response:
    """One request to the emulator, bypassing aimodels (a change made 'outside')."""
    return session.request(method, path, params={"api-version": version}, json=body)


def deployment_path(name: str) -> str:
    return (f"{ARM_PREFIX}/Microsoft.ContainerService/aiManagers/{AI_MANAGER}/namespaces/default"
            f"/modelDeployments/{name}")


def foundry_path(name: str, account: str = ACCOUNT) -> str:
    return f"{ARM_PREFIX}/Microsoft.CognitiveServices/accounts/{account}/deployments/{name}"


def source_path(name: str) -> str:
    return f"{ARM_PREFIX}/Microsoft.ContainerService/aiManagers/{AI_MANAGER}/modelSources/{name}"


Check = Callable[[Plan], None]
