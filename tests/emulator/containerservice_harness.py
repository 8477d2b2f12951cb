"""What the Microsoft.ContainerService emulator tests share: one served emulator per test module
with an injected clock, and a fresh subscription (its own parents and GPU quota) per test.

Import the fixtures into a test module: ``from containerservice_harness import cs, served``.
Tests move time with ``cs.clock.advance(s)`` instead of sleeping; because every test owns its
subscription, moving the shared clock never disturbs another test's resources.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.containerservice import API_VERSION, seed_parents
from aimodels.emulator.containerservice.sizing import model_name
from aimodels.emulator.server import RunningEmulator, start_in_thread

LRO_SECONDS = 10.0
PHI_MINI = "microsoft/Phi-4-mini-instruct"
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
A100 = "Standard_NC24ads_A100_v4"


class FakeClock:
    """A clock tests move by hand; starts at 2026-08-01T00:00:00Z."""

    def __init__(self, start: float = 1_785_542_400.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Served:
    """An emulator serving on loopback, with the clock that drives its LROs."""

    running: RunningEmulator
    clock: FakeClock

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def emu(self) -> Emulator:
        return self.running.emulator


@dataclass
class Scope:
    """One test's own subscription, resource group (eastus) and AI manager ``aim``."""

    served: Served
    sub: str
    rg: str
    client: httpx.Client

    @property
    def clock(self) -> FakeClock:
        return self.served.clock

    @property
    def emu(self) -> Emulator:
        return self.served.emu

    @property
    def group(self) -> str:
        return (f"/subscriptions/{self.sub}/resourceGroups/{self.rg}"
                "/providers/Microsoft.ContainerService")

    @property
    def manager(self) -> str:
        return f"{self.group}/aiManagers/aim"

    @property
    def location(self) -> str:
        return f"/subscriptions/{self.sub}/providers/Microsoft.ContainerService/locations/eastus"

    def follow(self, url: str) -> httpx.Response:
        """GET an absolute URL the emulator handed out (nextLink, Location) exactly as given.

        The scope's client adds its default api-version, which in httpx replaces the URL's
        whole query string (a nextLink's ``$skipToken`` included).
        """
        return httpx.get(url, headers={"Authorization": "Bearer test"}, timeout=10)

    def source(self, name: str) -> str:
        return f"{self.manager}/modelSources/{name}"

    def deployment(self, name: str, namespace: str = "prod") -> str:
        return f"{self.manager}/namespaces/{namespace}/modelDeployments/{name}"

    def model_id(self, model: str = PHI_MINI) -> str:
        return f"{self.location}/aiModels/{model_name(model)}"

    def deployment_body(
        self, model: str = PHI_MINI, vm_size: str = A100, **properties: Any
    ) -> dict[str, Any]:
        return {
            "properties": {"modelResourceId": self.model_id(model), "vmSize": vm_size, **properties}
        }

    def create_deployment(self, name: str, finish: bool = True, **kw: Any) -> dict[str, Any]:
        """PUT a deployment (Phi-4-mini on one A100 unless told) and, by default, let it finish."""
        response = self.client.put(self.deployment(name), json=self.deployment_body(**kw))
        assert response.status_code == 201, response.text
        if finish:
            self.clock.advance(LRO_SECONDS)
        return response.json()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    clock = FakeClock()
    emulator = Emulator(EmulatorConfig(lro_seconds=LRO_SECONDS, seed=7), clock=clock)
    with start_in_thread(emulator=emulator) as running:
        yield Served(running, clock)


@pytest.fixture
def cs(served: Served) -> Iterator[Scope]:
    sub = str(uuid.uuid4())
    rg = f"rg-{uuid.uuid4().hex[:8]}"
    seed_parents(served.emu, sub, rg, "eastus", "aim")
    with httpx.Client(
        base_url=served.url,
        headers={"Authorization": "Bearer test"},
        params={"api-version": API_VERSION},
        timeout=10,
    ) as client:
        yield Scope(served, sub, rg, client)


def error_code(response: httpx.Response) -> str:
    """The ARM (or OpenAI) ``error.code`` of an error response."""
    return str(response.json()["error"]["code"])
