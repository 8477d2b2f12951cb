"""``detect_drift``: what moved since the last apply, in three separate questions.

1. Changed outside aimodels: the live resource differs from the spec last applied (state),
   field by field, with who changed it and when where the API says (``systemData``).
2. Deleted outside aimodels: in state, gone from Azure.
3. Not yet applied: the manifests differ from the spec last applied (edits waiting for apply,
   resources declared but never created, resources removed from the manifests).

Pure, like the planner: desired + live + prior in, a DriftReport out. A cron job runs
``aimodels drift`` and acts on its exit code (0 nothing moved, 2 drift found).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.plan.diff import SecretDigests, remembered
from aimodels.plan.provider import ProviderContext, ProviderRegistry, check_applied_specs
from aimodels.plan.values import FieldChange, LiveState, PriorResource, ResolvedInputs

CHANGED_OUTSIDE = "changed_outside"
DELETED_OUTSIDE = "deleted_outside"
NOT_APPLIED = "not_applied"

#: Section titles, in the order reports show them.
SECTIONS = {
    CHANGED_OUTSIDE: "Changed outside aimodels",
    DELETED_OUTSIDE: "Deleted outside aimodels",
    NOT_APPLIED: "Manifest changes not yet applied",
}


@dataclass(frozen=True, slots=True)
class DriftItem:
    """One resource that moved, in one section, with the fields that differ.

    For CHANGED_OUTSIDE ``before`` sides are the applied spec and ``after`` sides the live one;
    for NOT_APPLIED ``before`` is the applied spec and ``after`` the manifest. ``note`` says
    what happened in a sentence (``never applied``, ``removed from the manifests``, who changed
    it and when).
    """

    section: str
    address: ResourceAddress
    note: str = ""
    field_changes: tuple[FieldChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"address": str(self.address), "fieldChanges": [f.to_dict() for f in
                                                              self.field_changes],
                "note": self.note, "section": self.section}


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every drift item, sorted by section then address."""

    items: tuple[DriftItem, ...] = ()

    @property
    def has_drift(self) -> bool:
        return bool(self.items)

    def section(self, name: str) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.section == name)

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON document of ``drift --format json``."""
        return {"formatVersion": "1.0", "hasDrift": self.has_drift,
                "sections": {name: [i.to_dict() for i in self.section(name)]
                             for name in SECTIONS}}


def detect_drift(desired: DesiredState, live: LiveState,
                 prior: Mapping[ResourceAddress, PriorResource], *,
                 registry: ProviderRegistry,
                 inputs: ResolvedInputs | None = None) -> DriftReport:
    """Compare live with the last applied specs, and the manifests with them."""
    check_applied_specs(prior, registry)
    ctx = ProviderContext(desired.stack, inputs or ResolvedInputs(), desired.resources)
    items: list[DriftItem] = []
    for address, entry in sorted(prior.items()):
        items += _outside(address, entry, live, registry)
    items += _not_applied(desired, prior, ctx, registry)
    order = list(SECTIONS)
    return DriftReport(tuple(sorted(items, key=lambda i: (order.index(i.section), i.address))))


def _outside(address: ResourceAddress, entry: PriorResource, live: LiveState,
             registry: ProviderRegistry) -> list[DriftItem]:
    found = live.get(address)
    if found is None:
        return [DriftItem(DELETED_OUTSIDE, address, "it is in the state but no longer in Azure")]
    provider = registry.for_address(address)
    live_spec = remembered(provider.from_live(found.body), entry.applied_spec,
                           provider.policy.from_state)
    secrets = SecretDigests(entry.secret_digests, entry.secret_digests)
    diff = provider.diff(entry.applied_spec, live_spec, secrets=secrets)
    if not diff.field_changes:
        return []
    # diff(applied, live) reports before=live, after=applied: flip, so `after` is what is live.
    flipped = tuple(FieldChange(c.path, c.after, c.before, False, c.sensitive)
                    for c in diff.field_changes)
    return [DriftItem(CHANGED_OUTSIDE, address, _who(found.body), flipped)]


def _not_applied(desired: DesiredState, prior: Mapping[ResourceAddress, PriorResource],
                 ctx: ProviderContext, registry: ProviderRegistry) -> list[DriftItem]:
    items = [DriftItem(NOT_APPLIED, a, "removed from the manifests; apply will delete it")
             for a in sorted(set(prior) - set(desired.resources))]
    for address, resource in sorted(desired.resources.items()):
        provider = registry.for_address(address)
        spec = provider.normalize(resource, ctx)
        entry = prior.get(address)
        if entry is None:
            items.append(DriftItem(NOT_APPLIED, address, "declared but never applied"))
            continue
        secrets = SecretDigests(ctx.inputs.secret_digests.get(address, {}), entry.secret_digests)
        diff = provider.diff(spec, entry.applied_spec, secrets=secrets)
        if diff.field_changes:
            items.append(DriftItem(NOT_APPLIED, address, "edited since the last apply",
                                   diff.field_changes))
    return items


def _who(body: Mapping[str, Any]) -> str:
    """``changed by alice@contoso.com at 2026-11-25T09:12:00Z`` when ``systemData`` says so."""
    system = body.get("systemData") or {}
    by, at = system.get("lastModifiedBy"), system.get("lastModifiedAt")
    if by and at:
        return f"changed by {by} at {at}"
    if at:
        return f"changed at {at}"
    return "changed since the last apply"
