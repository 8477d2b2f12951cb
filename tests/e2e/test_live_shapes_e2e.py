"""A reader invariant, by hypothesis: whatever one field of a live body holds (any JSON value,
at any depth), plan and drift either work or stop with an unexpected response (exit 5). They
never crash (exit 70), whichever of the reader, the planner, pre-flight, drift or the renderers
meets the odd value first.

The quickstart is applied to the emulator once; each example then plans and checks drift
against it through a transport that serves the list answers (the live resources, and the
catalog, usage and capacity lists pre-flight reads) with one field replaced.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from e2e_support import Cli
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aimodels.emulator.server import RunningEmulator
from aimodels.live.preflight import run_preflight
from aimodels.live.reader import read_live
from aimodels.manifest import load_manifests
from aimodels.plan.drift import detect_drift
from aimodels.plan.planner import make_plan
from aimodels.providers.registry import default_registry
from aimodels.render.drift import render_drift
from aimodels.render.plan import render_plan
from aimodels.service.inputs import resolve_inputs
from aimodels.service.planning import prior_resources, read_stack_state, stack_backend
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig
from aimodels.transport.credentials import StaticTokenSource
from aimodels.transport.errors import UnexpectedResponseError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6)


@dataclass(frozen=True, slots=True)
class Mutation:
    """Replace the value at ``path`` of item ``index`` of the list at ``collection``."""

    collection: str
    index: int
    path: tuple[str, ...]
    value: Any

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(body)
        node = changed["value"][self.index]
        for key in self.path[:-1]:
            node = node[key]
        node[self.path[-1]] = self.value
        return changed


class Serving(httpx.AsyncBaseTransport):
    """The emulator over loopback, with the recorded list answers served (one of them changed)."""

    def __init__(self, lists: dict[str, dict[str, Any]], mutation: Mutation | None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lists = lists
        self.mutation = mutation

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = self.lists.get(request.url.path) if request.method == "GET" else None
        if body is None:
            return await self.inner.handle_async_request(request)
        if self.mutation is not None and self.mutation.collection == request.url.path:
            body = self.mutation.apply(body)
        return httpx.Response(200, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Recording(httpx.AsyncBaseTransport):
    """The emulator over loopback; keeps the list answers (``value``) by path."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lists: dict[str, dict[str, Any]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        body = json.loads(content) if content else None
        if request.method == "GET" and isinstance(body, dict) and "value" in body:
            self.lists[request.url.path] = body
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    async def aclose(self) -> None:
        await self.inner.aclose()


@st.composite
def mutations(draw: st.DrawFn, lists: dict[str, dict[str, Any]]) -> Mutation:
    collection = draw(st.sampled_from(sorted(p for p, b in lists.items() if b["value"])))
    items = lists[collection]["value"]
    index = draw(st.integers(0, len(items) - 1))
    node, path = items[index], []
    while True:
        key = draw(st.sampled_from(sorted(node)))
        path.append(key)
        below = node[key]
        if not (isinstance(below, dict) and below and draw(st.booleans())):
            break
        node = below
    return Mutation(collection, index, tuple(path), draw(JSON))


def test_any_odd_field_is_an_unexpected_response_or_nothing(
        cli: Cli, stack: Path, emulator: RunningEmulator) -> None:
    cli.applied()
    loaded = load_manifests((str(stack),), env=os.environ, strict_env=True)
    desired = loaded.desired
    with stack_backend(desired, os.environ) as backend:
        state, _ = read_stack_state(desired, backend)
    prior = prior_resources(state)
    inputs = resolve_inputs(desired, state, os.environ)
    config = ClientConfig(target="local", endpoint=emulator.url)

    async def plan_and_drift(transport: httpx.AsyncBaseTransport) -> list[str]:
        async with AzureClient(config, StaticTokenSource(), transport=transport) as client:
            found = await read_live(desired, prior, client, registry=default_registry(),
                                    inputs=inputs)
            plan = make_plan(desired, found.live, prior, registry=default_registry(), inputs=inputs,
                             state_lineage=state.lineage, state_serial=state.serial)
            plan = await run_preflight(plan, desired, found.live, client)
        report = detect_drift(desired, found.live, prior, registry=default_registry(),
                              inputs=inputs)
        return [*(render_plan(plan, fmt) for fmt in ("text", "json", "markdown")),
                *(render_drift(report, fmt) for fmt in ("text", "json", "markdown"))]

    recording = Recording()
    untouched = asyncio.run(plan_and_drift(recording))
    assert "No changes" in untouched[0]
    assert len(recording.lists) >= 4, sorted(recording.lists)  # the four kinds' collections

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(mutation=mutations(recording.lists))
    def odd_fields(mutation: Mutation) -> None:
        try:
            asyncio.run(plan_and_drift(Serving(recording.lists, mutation)))
        except UnexpectedResponseError as exc:
            assert exc.exit_code == 5
            assert exc.message.startswith("unexpected response from ")
            event("unexpected response")
        else:
            event("planned")

    odd_fields()
