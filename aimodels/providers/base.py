"""What the kind modules share: ``ProviderBase`` (the generic diff under a kind's
``FieldPolicy``) and the helpers that shape wire bodies.

The protocol a kind implements, ``Provider``, is the planner's and lives in
``aimodels.plan.provider``; the ARM id helpers are in ``aimodels.model.arm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from aimodels.model.address import ResourceAddress
from aimodels.plan.diff import (
    FieldPolicy,
    ResourceDiff,
    SecretDigests,
    copied,
    diff_specs,
)

__all__ = ["ARM_METADATA", "FieldPolicy", "ProviderBase", "ResourceDiff", "drop_server_computed",
           "without_none"]

#: The ARM metadata every tracked or proxy resource carries and nobody writes.
ARM_METADATA = ("id", "name", "type", "systemData")


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


def drop_server_computed(body: Mapping[str, Any], policy: FieldPolicy) -> dict[str, Any]:
    """A copy of a live body without the fields the service computes, and without a block
    left empty by their removal (as ``delete_path`` leaves it), copied in one pass."""
    drop: dict[object, Any] = {}  # path parts, and _END where a path ends
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
