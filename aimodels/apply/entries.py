"""The state entry a create or update leaves: what apply writes after a change, what a journal
intent carries ahead of it, and what recovery writes for a change an interrupted run made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aimodels.model.desired import DesiredResource
from aimodels.plan.values import Change
from aimodels.state.values import ResourceState


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
