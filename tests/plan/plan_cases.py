"""Builds planner inputs from a golden case file (tests/plan/cases/<kind>/<case>.yaml).

A case has ``desired`` (manifest documents, ``lifecycle`` inside ``spec`` as users write it),
``live`` (``address`` plus the ``body`` Azure returns; the id and ETag are read from the body),
``prior`` (state entries; ``appliedSpec``, ``preventDestroy`` and ``ignoreChanges`` default to
what the desired entry plans, i.e. the last apply matched the manifests; ``registeredVersions``
for a CustomModel), optional ``inputs`` (weights, secret digests), ``replace``, ``targets`` and
``destroy`` (plan as ``aimodels destroy`` does). Expectations: ``changes`` (every change of the
plan, in address order; ``retires`` and ``notes`` substrings too) and
``errors`` / ``warnings`` (substrings of diagnostic summaries).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aimodels.errors import SourceLocation
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState, Lifecycle, Stack
from aimodels.plan.diff import mask, with_defaults
from aimodels.plan.provider import ProviderContext
from aimodels.plan.values import (
    LiveObject,
    LiveState,
    PriorResource,
    ResolvedInputs,
    Weights,
)
from aimodels.providers.registry import default_registry

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

STACK = Stack(name="test", target="local", subscription_id=SUBSCRIPTION,
              resource_group="rg-test", location="eastus", source=SourceLocation("stack.yaml"),
              base_dir=Path("."), ai_manager="team-alpha", foundry_account="alpha-foundry")


def address(text: str) -> ResourceAddress:
    return ResourceAddress.parse(text)


def desired_resource(doc: dict[str, Any]) -> DesiredResource:
    """One manifest document as the loader builds it (lifecycle lifted out of the spec)."""
    spec = dict(doc.get("spec") or {})
    lifecycle = spec.pop("lifecycle", {}) or {}
    return DesiredResource(
        address=ResourceAddress(doc["kind"], doc["metadata"]["name"]), spec=spec,
        source=SourceLocation("case.yaml"), base_dir=Path("."),
        lifecycle=Lifecycle(bool(lifecycle.get("preventDestroy", False)),
                            tuple(lifecycle.get("ignoreChanges", ()))))


def desired_state(docs: list[dict[str, Any]], stack: Stack = STACK) -> DesiredState:
    resources = {r.address: r for r in map(desired_resource, docs)}
    return DesiredState(stack=stack, resources=dict(sorted(resources.items())))


def resolved_inputs(raw: dict[str, Any] | None) -> ResolvedInputs:
    raw = raw or {}
    weights = {address(a): Weights(w["sha256"], w["size"], w.get("format"))
               for a, w in (raw.get("weights") or {}).items()}
    digests = {address(a): dict(d) for a, d in (raw.get("secretDigests") or {}).items()}
    return ResolvedInputs(weights=weights, secret_digests=digests)


def live_state(entries: list[dict[str, Any]]) -> LiveState:
    objects = {}
    for entry in entries:
        body = entry["body"]
        addr = address(entry["address"])
        etag = body.get("eTag", body.get("etag"))
        resource_id = entry.get("resourceId") or body.get("id") or f"/custom-models/{addr.name}"
        objects[addr] = LiveObject(addr, resource_id, body, etag)
    return LiveState(objects)


def planned_spec(desired: DesiredState, addr: ResourceAddress,
                 inputs: ResolvedInputs) -> dict[str, Any]:
    """What a clean apply of the desired entry would have recorded as the applied spec."""
    provider = default_registry().for_address(addr)
    ctx = ProviderContext(desired.stack, inputs, desired.resources)
    spec = provider.normalize(desired.resources[addr], ctx)
    return mask(with_defaults(spec, provider.policy.defaults), provider.policy) or {}


def prior_state(entries: list[dict[str, Any]], desired: DesiredState,
                inputs: ResolvedInputs) -> dict[ResourceAddress, PriorResource]:
    prior = {}
    for entry in entries:
        addr = address(entry["address"])
        applied = entry.get("appliedSpec")
        if applied is None:
            applied = planned_spec(desired, addr, inputs) if addr in desired.resources else {}
        resource = desired.resources.get(addr)
        lifecycle = resource.lifecycle if resource is not None else Lifecycle()
        prior[addr] = PriorResource(
            address=addr, resource_id=entry["resourceId"], applied_spec=applied,
            etag=entry.get("etag"),
            prevent_destroy=bool(entry.get("preventDestroy", lifecycle.prevent_destroy)),
            secret_digests=dict(entry.get("secretDigests") or {}),
            ignore_changes=tuple(entry.get("ignoreChanges", lifecycle.ignore_changes)),
            registered_versions=tuple(entry.get("registeredVersions") or ()))
    return prior


def load_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    desired = desired_state(case.get("desired") or [])
    inputs = resolved_inputs(case.get("inputs"))
    return {
        "desired": desired,
        "live": live_state(case.get("live") or []),
        "prior": prior_state(case.get("prior") or [], desired, inputs),
        "inputs": inputs,
        "replace": [address(a) for a in case.get("replace") or []],
        "targets": [address(a) for a in case.get("targets") or []],
        "expected": case,
    }
