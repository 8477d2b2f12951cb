"""What the kind modules share: ``ProviderBase`` (the generic diff under a kind's
``FieldPolicy``, and the ARM defaults of where a kind is listed and how it is exported) and
the helpers that shape wire bodies and exported specs.

The protocol a kind implements, ``Provider``, is the planner's and lives in
``aimodels.plan.provider``: the mapping (``resource_id``, ``normalize``, ``references``,
``to_body``, ``from_live``, ``recognize``, ``diff`` under its ``FieldPolicy``) and what the I/O
layers ask of a kind (its ``writer`` family, its list ``collection``, ``listed_id`` and
``export``). A kind module subclasses ``ProviderBase`` and overrides what differs. The ARM id
helpers are in ``aimodels.model.arm``.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from aimodels.model.address import ResourceAddress
from aimodels.model.jsonvalue import copied
from aimodels.plan.diff import (
    FieldPolicy,
    ResourceDiff,
    SecretDigests,
    diff_specs,
)
from aimodels.plan.provider import ExportContext, ExportedSpec, ListCollection, WriterFamily

__all__ = ["ARM_METADATA", "FieldPolicy", "ProviderBase", "ResourceDiff", "drop_default",
           "drop_server_computed", "without_none"]

#: The ARM metadata every tracked or proxy resource carries and nobody writes.
ARM_METADATA = ("id", "name", "type", "systemData")


class ProviderBase(ABC):
    """Shared behaviour of the kind modules: the generic diff, no references, and an ARM
    resource's list collection (its parent's) and id, by default."""

    kind: ClassVar[str]
    api_version: ClassVar[str]
    policy: ClassVar[FieldPolicy]
    writer: ClassVar[WriterFamily]

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        return ()

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        live = self.recognize(desired_spec, live_spec)
        return diff_specs(desired_spec, live, self.policy, ignore=ignore, secrets=secrets)

    def recognize(self, known_spec: Mapping[str, Any],
                  live_spec: Mapping[str, Any]) -> Mapping[str, Any]:
        return live_spec

    def collection(self, address: ResourceAddress, resource_id: str) -> ListCollection:
        """An ARM resource is listed in its parent's collection: its id without the name."""
        return ListCollection(resource_id.rsplit("/", 1)[0])

    def listed_id(self, body: Mapping[str, Any]) -> str:
        return str(body.get("id", ""))

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        return ExportedSpec(self.from_live(body))

    @abstractmethod
    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A live body normalized back to the manifest's spec shape (each kind's own)."""


def drop_default(spec: dict[str, Any], key: str, default: str | None) -> None:
    """Leave ``key`` out of an exported spec when it holds the Stack's default (ARM names
    compare case-insensitively)."""
    if default and str(spec.get(key, "")).lower() == default.lower():
        spec.pop(key)


def drop_server_computed(body: Mapping[str, Any], policy: FieldPolicy) -> dict[str, Any]:
    """A copy of a live body without the fields the service computes, and without a block
    left empty by their removal (as ``delete_path`` leaves it), copied in one pass."""
    return _pruned(body, _drop_tree(policy.server_computed))


@functools.cache
def _drop_tree(paths: tuple[str, ...]) -> Mapping[object, Any]:
    """The paths as a tree of their parts, with _END where a path ends (once per kind)."""
    drop: dict[object, Any] = {}
    for path in paths:
        node = drop
        for part in path.split("."):
            node = node.setdefault(part, {})
        node[_END] = True
    return drop


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
