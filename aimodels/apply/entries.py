"""The state entry a create or update leaves: what apply writes after a change, what a journal
intent carries ahead of it, and what recovery writes for a change an interrupted run made.

A CustomModel's entry also lists every version aimodels registered and has not deleted yet
(``extra.registeredVersions``): the planner retires the ones no deployment uses any more, and
``destroy`` deletes them all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aimodels.model.desired import DesiredResource
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.values import Change
from aimodels.state.values import ResourceState

#: The ``extra`` key of a CustomModel's entry listing the versions aimodels registered.
REGISTERED_VERSIONS = "registeredVersions"


def state_entry(change: Change, etag: str | None, *, resource: DesiredResource | None,
                prior: ResourceState | None, digests: Mapping[str, str]) -> ResourceState:
    """The entry of an applied create or update: the planned spec (secrets masked), the ETag
    Azure answered, the ``lifecycle`` of the manifest, the keyed digests of the secrets sent
    (``extra.secretDigests``); other ``extra`` keys of the prior entry are kept, except a past
    ``provisioningFailed``."""
    extra = {k: v for k, v in (prior.extra if prior else {}).items()
             if k not in ("secretDigests", "provisioningFailed")}
    if digests:
        extra["secretDigests"] = dict(digests)
    version = (change.after or {}).get("version")
    if change.address.kind == CUSTOM_MODEL and version is not None:
        extra[REGISTERED_VERSIONS] = sorted({*registered_versions(prior), str(version)})
    return ResourceState(
        address=str(change.address), resource_id=change.resource_id,
        desired=dict(change.after or {}), etag=etag,
        prevent_destroy=bool(resource and resource.lifecycle.prevent_destroy), extra=extra,
        ignore_changes=resource.lifecycle.ignore_changes if resource else ())


def with_lifecycle(entry: ResourceState, resource: DesiredResource) -> ResourceState:
    """The entry with the manifest's ``lifecycle`` and nothing else changed: what a state-only
    lifecycle change (``Change.is_record``) writes, without calling Azure."""
    return replace(entry, prevent_destroy=resource.lifecycle.prevent_destroy,
                   ignore_changes=resource.lifecycle.ignore_changes)


def with_failure(entry: ResourceState, code: str, message: str) -> ResourceState:
    """The entry of a resource whose operation failed in Azure: it exists, so it is managed,
    with the failure under ``extra.provisioningFailed`` for people and ``state show``."""
    failed: dict[str, Any] = {"code": code, "message": message}
    return replace(entry, extra={**entry.extra, "provisioningFailed": failed})


def registered_versions(entry: ResourceState | None) -> tuple[str, ...]:
    """The versions a CustomModel's entry says aimodels registered: ``extra.registeredVersions``
    and the version last applied (entries written before the list existed have only that)."""
    if entry is None:
        return ()
    found = {str(v) for v in entry.extra.get(REGISTERED_VERSIONS, ())}
    if entry.desired.get("version") is not None:
        found.add(str(entry.desired["version"]))
    return tuple(sorted(found))


def without_versions(entry: ResourceState, retired: tuple[str, ...]) -> ResourceState:
    """The entry once ``retired`` versions were deleted from the registry."""
    kept = [v for v in registered_versions(entry) if v not in set(retired)]
    return replace(entry, extra={**entry.extra, REGISTERED_VERSIONS: kept})
