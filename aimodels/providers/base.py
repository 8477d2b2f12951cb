"""The Provider protocol: how one kind maps between its manifest spec and Azure's wire body.

A provider is pure here: it builds the request body from a planned spec (``to_body``), turns a
live body back into the manifest's spec shape (``from_live``) so the two compare field by field,
and diffs them under its ``FieldPolicy`` (through ``aimodels.plan.diff``). It never chooses an
action: the planner does. Reading and writing Azure (read/create/update/delete) arrive with
apply and go through ``aimodels.transport``; they are not part of this protocol yet.

Normalized specs keep the manifest's words (``model: {catalog: ...}``, ``scale: {replicas: 2}``,
``modelSource: hf-private``), with the Stack's defaults filled (``aiManager``, ``account``) and
secrets replaced by ``SENSITIVE_VALUE``. They are what the state stores as the applied spec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, Stack
from aimodels.plan.diff import (
    FieldPolicy,
    ResourceDiff,
    SecretDigests,
    copied,
    diff_specs,
)
from aimodels.plan.values import ResolvedInputs

__all__ = ["ARM_METADATA", "FieldPolicy", "Provider", "ProviderBase", "ProviderContext",
           "ResourceDiff", "arm_id", "arm_parents", "catalog_model_id", "catalog_model_name",
           "drop_server_computed", "without_none"]

#: The ARM metadata every tracked or proxy resource carries and nobody writes.
ARM_METADATA = ("id", "name", "type", "systemData")


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What a provider needs beyond one resource's spec.

    ``desired`` lets a body name other resources (a CustomModel's version); ``inputs`` holds
    hashed weights and secret digests. ``secret_values`` is filled by apply only, to send a
    secret in a request body; it is never printed (``repr=False``) and never reaches a plan.
    """

    stack: Stack
    inputs: ResolvedInputs = field(default_factory=ResolvedInputs)
    desired: Mapping[ResourceAddress, DesiredResource] = field(default_factory=dict)
    secret_values: Mapping[ResourceAddress, Mapping[str, str]] = field(
        default_factory=dict, repr=False)


class Provider(Protocol):
    """One kind's mapping and field rules.

    Later (apply issue): ``read``, ``create``, ``update`` and ``delete`` taking the transport
    client, with ``If-Match``/``If-None-Match`` where the API honours them.
    """

    kind: str
    api_version: str
    policy: FieldPolicy

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        """Where the resource lives: an ARM id, or the registry path for CustomModel."""
        ...

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        """The desired spec in comparable shape: Stack defaults filled, secrets masked."""
        ...

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        """The addresses a normalized spec names (its possible dependencies)."""
        ...

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        """The request body (ARM PUT or registry POST) for a planned spec."""
        ...

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A live body normalized back to the manifest's spec shape."""
        ...

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        """Compare a normalized desired spec with a normalized live one (pure)."""
        ...

    def recognize(self, known_spec: Mapping[str, Any],
                  live_spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """``live_spec`` in the words of ``known_spec`` (the manifest's, or the spec last
        applied) where Azure holds an opaque equivalent: a catalog model's hashed AIModel id
        shown as ``microsoft/Phi-4-mini-instruct``. For display and comparison only."""
        ...


class ProviderBase:
    """Shared behaviour of the kind modules: the generic diff, and no references by default."""

    kind: ClassVar[str]
    api_version: ClassVar[str]
    policy: ClassVar[FieldPolicy]

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        return ()

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        live = self.recognize(desired_spec, live_spec)
        return diff_specs(desired_spec, live, self.policy, ignore=ignore, secrets=secrets)

    def recognize(self, known_spec: Mapping[str, Any],
                  live_spec: Mapping[str, Any]) -> Mapping[str, Any]:
        return live_spec


def arm_id(stack: Stack, provider: str, *segments: str) -> str:
    """``/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{type}/{name}/...``."""
    tail = "/".join(segments)
    return (f"/subscriptions/{stack.subscription_id}/resourceGroups/{stack.resource_group}"
            f"/providers/{provider}/{tail}")


def arm_parents(resource_id: str) -> dict[str, str]:
    """The ``type/name`` pairs after ``providers/{namespace}`` of an ARM id, keyed by type
    in lower case (``{"aimanagers": "team-alpha", "namespaces": "prod", ...}``)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return {}
    start = len(lowered) - lowered[::-1].index("providers") + 1
    pairs = parts[start:]
    return {pairs[i].lower(): pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}


def catalog_model_id(stack: Stack, model_id: str) -> str:
    """The AIModel id of a catalog model: its name is the first 16 hex of sha256(modelId)."""
    return (f"/subscriptions/{stack.subscription_id}/providers/Microsoft.ContainerService"
            f"/locations/{stack.location}/aiModels/{catalog_model_name(model_id)}")


def catalog_model_name(model_id: str) -> str:
    """The AIModel resource name for a catalog model id (``microsoft/Phi-4-mini-instruct``)."""
    return hashlib.sha256(model_id.encode()).hexdigest()[:16]


def drop_server_computed(body: Mapping[str, Any], policy: FieldPolicy) -> dict[str, Any]:
    """A copy of a live body without the fields the service computes, and without a block
    left empty by their removal (as ``delete_path`` leaves it), copied in one pass."""
    drop: dict[str, Any] = {}
    for path in policy.server_computed:
        node = drop
        for part in path.split("."):
            node = node.setdefault(part, {})
        node[_END] = True
    return _pruned(body, drop)


#: Marks where a server-computed path ends in ``drop_server_computed``'s tree of paths.
_END = object()


def _pruned(value: Mapping[str, Any], drop: Mapping[Any, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in value.items():
        below = drop.get(key)
        if below is None or (not isinstance(item, Mapping) and _END not in below):
            kept[key] = copied(item)
        elif _END not in below and (inner := _pruned(item, below)):
            kept[key] = inner
    return kept


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """The items whose value is set: an omitted field and a null compare equal."""
    return {k: v for k, v in values.items() if v is not None}
