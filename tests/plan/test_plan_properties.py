"""Property tests of the planner: generated manifests, and live as Azure would return them.

``azure_echo`` plays the service: it takes the body we would send (``Provider.to_body``) and
returns what a GET gives back (ids, ETags, server-filled defaults, read-only status, the inline
secret dropped). Planning that live against the same manifests must be empty.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_cases import STACK, desired_state, planned_spec

from aimodels.model.address import ResourceAddress, sorted_addresses
from aimodels.model.desired import DesiredState
from aimodels.plan.graph import Graph, apply_graph
from aimodels.plan.planner import make_plan
from aimodels.plan.provider import ProviderContext
from aimodels.plan.values import (
    Action,
    LiveObject,
    LiveState,
    PriorResource,
    ResolvedInputs,
    Weights,
)
from aimodels.providers.registry import default_registry

REGISTRY = default_registry()
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)
words = st.text(alphabet="abcdefghij klm", min_size=1, max_size=12)
CATALOG = ["microsoft/Phi-4-mini-instruct", "meta-llama/Llama-3.1-8B-Instruct",
           "Qwen/Qwen2.5-7B-Instruct"]
VM_SIZES = ["Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4", "Standard_ND96asr_v4"]


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name}, "spec": spec}


def _optional(draw: Any, key: str, strategy: Any) -> dict[str, Any]:
    return {key: draw(strategy)} if draw(st.booleans()) else {}


@st.composite
def model_source(draw: Any, name: str) -> dict[str, Any]:
    spec = {"sourceType": draw(st.sampled_from(["HuggingFace", "MicrosoftFoundry"]))}
    spec |= _optional(draw, "description", words)
    key_vault = {"keyVaultSecretUri": f"https://kv.vault.azure.net/secrets/{name}"}
    spec |= _optional(draw, "credential", st.sampled_from([{"fromEnv": "HF_TOKEN"}, key_vault]))
    return _doc("ModelSource", name, spec)


@st.composite
def custom_model(draw: Any, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"path": f"./{name}.bin",
                            "version": draw(st.from_regex(r"[1-9]\.[0-9]", fullmatch=True))}
    spec |= _optional(draw, "format", st.sampled_from(["safetensors", "gguf", "onnx"]))
    spec |= _optional(draw, "description", words)
    spec |= _optional(draw, "tags", st.dictionaries(names, words, max_size=2))
    spec |= _optional(draw, "deletePolicy", st.sampled_from(["Delete", "KeepWeights"]))
    return _doc("CustomModel", name, spec)


@st.composite
def scale(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"replicas": draw(st.integers(0, 8))}
    auto = _optional(draw, "minReplicas", st.integers(1, 3))
    auto |= _optional(draw, "maxReplicas", st.integers(3, 9))
    return {"autoscale": auto}


@st.composite
def model_deployment(draw: Any, name: str, sources: list[str],
                     customs: list[str]) -> dict[str, Any]:
    model = {"catalog": draw(st.sampled_from(CATALOG))}
    if customs and draw(st.booleans()):
        model = {"custom": draw(st.sampled_from(customs))}
    spec: dict[str, Any] = {"namespace": draw(st.sampled_from(["prod", "staging"])),
                            "model": model, "vmSize": draw(st.sampled_from(VM_SIZES))}
    if sources:
        spec |= _optional(draw, "modelSource", st.sampled_from(sources))
    spec |= _optional(draw, "performanceMode", st.sampled_from(["Balanced", "Latency",
                                                                "Throughput"]))
    spec |= _optional(draw, "scale", scale())
    spec |= _optional(draw, "overrides", st.dictionaries(names, words, max_size=2))
    return _doc("ModelDeployment", name, spec)


@st.composite
def foundry_deployment(draw: Any, name: str, customs: list[str]) -> dict[str, Any]:
    model: dict[str, Any] = {"format": "OpenAI",
                             "name": draw(st.sampled_from(["gpt-4o", "gpt-4o-mini"]))}
    model |= _optional(draw, "version", st.sampled_from(["2024-08-06", "2024-11-20"]))
    if customs and draw(st.booleans()):
        model = {"custom": draw(st.sampled_from(customs))}
    sku: dict[str, Any] = {"name": draw(st.sampled_from(["Standard", "GlobalStandard"]))}
    sku |= _optional(draw, "capacity", st.integers(1, 300))
    spec = {"model": model, "sku": sku}
    spec |= _optional(draw, "raiPolicyName", st.sampled_from(["Microsoft.DefaultV2",
                                                              "Contoso.Strict"]))
    spec |= _optional(draw, "versionUpgradeOption", st.sampled_from(
        ["OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade"]))
    return _doc("FoundryDeployment", name, spec)


@st.composite
def manifests(draw: Any) -> list[dict[str, Any]]:
    """A valid manifest set: sources and custom models first, deployments referencing them."""
    pool = draw(st.lists(names, min_size=1, max_size=9, unique=True))
    cut1, cut2 = sorted(draw(st.lists(st.integers(0, len(pool)), min_size=2, max_size=2)))
    sources, customs, deployments = pool[:cut1], pool[cut1:cut2], pool[cut2:]
    docs = [draw(model_source(n)) for n in sources] + [draw(custom_model(n)) for n in customs]
    for name in deployments:
        if draw(st.booleans()):
            docs.append(draw(model_deployment(name, sources, customs)))
        else:
            docs.append(draw(foundry_deployment(name, customs)))
    return docs


# --- the service, as far as a GET shows ---------------------------------------------------


def inputs_for(desired: DesiredState) -> ResolvedInputs:
    weights = {a: Weights(hashlib.sha256(a.name.encode()).hexdigest(), len(a.name))
               for a in desired.resources if a.kind == "CustomModel"}
    digests = {a: {"credential.secret": "hmac-sha256:" + a.name}
               for a, r in desired.resources.items()
               if "fromEnv" in (r.spec.get("credential") or {})}
    return ResolvedInputs(weights=weights, secret_digests=digests)


def azure_echo(address: ResourceAddress, body: dict[str, Any], resource_id: str,
               etag: str) -> dict[str, Any]:
    """What a GET returns after a PUT/POST of ``body``."""
    echo = json.loads(json.dumps(body))
    if address.kind == "CustomModel":
        echo.setdefault("format", "safetensors")
        echo.setdefault("description", "")
        echo.setdefault("tags", {})
        return {**echo, "status": "Ready", "upload_id": "u1", "created_at": "2026-11-20T10:00Z"}
    props = echo.setdefault("properties", {})
    props["provisioningState"] = "Succeeded"
    if address.kind == "ModelSource" and "inline" in props.get("credential", {}):
        props["credential"] = {"inline": {}}
    if address.kind == "ModelDeployment":
        _echo_deployment(props)
    if address.kind == "FoundryDeployment":
        _echo_foundry(echo, props)
    tag = "etag" if address.kind == "FoundryDeployment" else "eTag"
    return {**echo, "id": resource_id, "name": address.name, tag: etag,
            "systemData": {"createdBy": "ci@example.com"}}


def _echo_deployment(props: dict[str, Any]) -> None:
    props.setdefault("performanceMode", "Balanced")
    props.setdefault("scale", {"manual": {"replicas": 1}})
    auto = props["scale"].get("autoscale")
    if auto is not None:
        auto.setdefault("minReplicas", 1)
        auto.setdefault("maxReplicas", max(auto["minReplicas"], 6))
    props["status"] = {"endpoint": "https://example.invalid/x", "engine": "vllm"}


def _echo_foundry(echo: dict[str, Any], props: dict[str, Any]) -> None:
    echo["sku"].setdefault("capacity", 1)
    props["model"].setdefault("version", "2024-11-20")
    props.setdefault("raiPolicyName", "Microsoft.DefaultV2")
    props.setdefault("versionUpgradeOption", "OnceNewDefaultVersionAvailable")
    props["capabilities"] = {"chatCompletion": "true"}
    props["rateLimits"] = [{"key": "request", "count": 10}]


def applied_world(desired: DesiredState, inputs: ResolvedInputs,
                  ) -> tuple[LiveState, dict[ResourceAddress, PriorResource]]:
    """Live and state as they stand right after a clean apply of ``desired``."""
    ctx = ProviderContext(STACK, inputs, desired.resources,
                          secret_values={a: {"credential.secret": "hf_secret_token"}
                                         for a in inputs.secret_digests})
    live, prior = {}, {}
    for address in desired.resources:
        provider = REGISTRY.for_address(address)
        spec = planned_spec(desired, address, inputs)
        resource_id = provider.resource_id(address, spec, STACK)
        etag = f'"{address.name}-1"'
        body = azure_echo(address, provider.to_body(address, spec, ctx), resource_id, etag)
        live[address] = LiveObject(address, resource_id, body,
                                   None if address.kind == "CustomModel" else etag)
        prior[address] = PriorResource(address, resource_id, spec, etag,
                                       secret_digests=inputs.secret_digests.get(address, {}))
    return LiveState(live), prior


def _plan_json(desired: DesiredState, live: LiveState, prior: dict[ResourceAddress,
               PriorResource], **kwargs: Any) -> str:
    plan = make_plan(desired, live, prior, registry=default_registry(), **kwargs)
    return json.dumps(plan.to_dict(), sort_keys=True)


# --- properties ---------------------------------------------------------------------------


@SETTINGS
@given(manifests())
def test_planning_live_against_itself_is_all_noop(docs: list[dict[str, Any]]) -> None:
    desired = desired_state(docs)
    inputs = inputs_for(desired)
    live, prior = applied_world(desired, inputs)
    plan = make_plan(desired, live, prior, registry=default_registry(), inputs=inputs)
    assert [c.action for c in plan.changes] == [Action.NOOP] * len(desired.resources)
    assert not plan.diagnostics and not plan.applyable and not plan.errored
    assert "hf_secret_token" not in json.dumps(plan.to_dict())


@SETTINGS
@given(manifests(), st.randoms(use_true_random=False))
def test_equal_inputs_give_byte_identical_plans(docs: list[dict[str, Any]],
                                                rnd: random.Random) -> None:
    desired = desired_state(docs)
    inputs = inputs_for(desired)
    live, prior = applied_world(desired, inputs)
    gone = [a for a in desired.resources if rnd.random() < 0.3]
    live = LiveState({a: o for a, o in live.objects.items() if a not in gone})
    first = _plan_json(desired, live, prior, inputs=inputs, replace=gone[:1])
    shuffled = DesiredState(STACK, dict(_shuffled(desired.resources, rnd)))
    again = _plan_json(shuffled, LiveState(dict(_shuffled(live.objects, rnd))),
                       dict(_shuffled(prior, rnd)), inputs=inputs, replace=gone[:1])
    assert first == again


@SETTINGS
@given(manifests(), manifests(), st.randoms(use_true_random=False))
def test_every_change_has_a_reason(docs: list[dict[str, Any]], other: list[dict[str, Any]],
                                   rnd: random.Random) -> None:
    """Live from one manifest set, desired from another (renamed overlap), some live objects
    gone and some manifests new: creates, updates, replaces, deletes and forgets."""
    desired = desired_state(docs)
    inputs = inputs_for(desired)
    live, prior = applied_world(desired, inputs)
    live = LiveState({a: o for a, o in live.objects.items() if rnd.random() < 0.8})
    fresh = [{**d, "metadata": {"name": "n-" + d["metadata"]["name"]}} for d in other[:2]]
    edited = desired_state([d for d in _edited(docs, other) if rnd.random() < 0.8]
                           + [{**d, "spec": _without_dangling(d["spec"], docs)} for d in fresh])
    replace = [a for a in edited.resources if rnd.random() < 0.2]
    plan = make_plan(edited, live, prior, registry=default_registry(), inputs=inputs_for(edited),
                     replace=replace)
    for change in plan.changes:
        if change.action is not Action.NOOP or change.is_forget:
            assert change.reasons, change
        if change.action is Action.REPLACE:
            assert change.replace_paths or change.address in replace


@SETTINGS
@given(manifests())
def test_creates_follow_dependencies_and_deletes_run_in_reverse(
        docs: list[dict[str, Any]]) -> None:
    desired = desired_state(docs)
    inputs = inputs_for(desired)
    creates = make_plan(desired, LiveState(), {}, registry=default_registry(), inputs=inputs)
    order = [s.address for s in apply_graph(creates.changes).topological_order()]
    for change in creates.changes:
        for dep in change.depends_on:
            assert order.index(dep) < order.index(change.address)
    live, prior = applied_world(desired, inputs)
    deletes = make_plan(desired_state([]), live, prior, registry=default_registry())
    delete_order = [s.address for s in apply_graph(deletes.changes).topological_order()]
    graph = Graph({c.address: c.depends_on for c in deletes.changes})
    assert all(c.action is Action.DELETE for c in deletes.changes)
    for change in deletes.changes:
        for dep in change.depends_on:
            assert delete_order.index(change.address) < delete_order.index(dep)
    assert graph.reverse_order() == list(reversed(graph.topological_order()))


def _edited(docs: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``other``'s specs under ``docs``' names where kinds match, so fields really differ."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in other:
        by_kind.setdefault(doc["kind"], []).append(doc)
    out = []
    for doc in docs:
        donors = by_kind.get(doc["kind"]) or [doc]
        spec = json.loads(json.dumps(donors[0]["spec"]))
        out.append({**doc, "spec": _without_dangling(spec, docs)})
    return out


def _without_dangling(spec: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, Any]:
    known = {d["metadata"]["name"] for d in docs}
    if spec.get("modelSource") not in known:
        spec.pop("modelSource", None)
    if (spec.get("model") or {}).get("custom") not in known | {None}:
        spec["model"] = {"catalog": CATALOG[0]} if "vmSize" in spec else {
            "format": "OpenAI", "name": "gpt-4o"}
    return spec


def _shuffled(mapping: Any, rnd: random.Random) -> list[tuple[Any, Any]]:
    items = list(mapping.items())
    rnd.shuffle(items)
    return items


@given(st.lists(st.builds(ResourceAddress, st.sampled_from(["ModelSource", "ModelDeployment",
                                                            "A", "a", ""]),
                          st.text(max_size=4)), max_size=30))
def test_sorted_addresses_is_the_dataclass_order(addresses: list[ResourceAddress]) -> None:
    assert sorted_addresses(addresses) == sorted(addresses)
    assert sorted_addresses(set(addresses)) == sorted(set(addresses))
