"""What a plan does with a CustomModel's versions and with the deployments that run it. Pure.

``make_plan`` calls ``settle_custom_models`` once every change is planned. A deployment
(ModelDeployment or FoundryDeployment) *uses* the version its spec names
(``model: {custom, version}``): after this plan, the planned spec for the deployments the plan
covers (none for a delete), the spec last applied (state) for the ones it does not cover.

- **Old versions.** The versions aimodels registered for a CustomModel (state
  ``extra.registeredVersions`` and the applied version) other than the one the manifests
  declare are *retired*: deleted by the CustomModel's ``retire`` step, which apply runs after
  every change that depends on the CustomModel (the deployments have moved to the new version
  by then). A version some deployment still uses is kept, and a later plan retires it once none
  does; ``previousVersions: Keep`` keeps them all (``destroy`` still deletes every one). A
  CustomModel with nothing else to do but retire becomes an UPDATE
  (``update_because_versions_unused``). Each decision is a note on the CustomModel's change.
- **Destroying a CustomModel a deployment still uses** is refused: an error naming both
  addresses. A DELETE also retires every other version aimodels registered.
- **New weights under the same version** (a CustomModel REPLACE): the deployments that run it
  were planned as replaced or updated by their providers (their ``model.sha256`` changed); both
  sides get a note naming the other, and deployments outside the plan (``--target``) are named.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from aimodels.errors import Diagnostic, error
from aimodels.model.address import ResourceAddress, sorted_addresses
from aimodels.model.kinds import CUSTOM_MODEL, FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.plan.values import Action, Change, PriorResource, Reason

#: The kinds that deploy a custom model (``model.custom``).
DEPLOYMENT_KINDS = frozenset({MODEL_DEPLOYMENT, FOUNDRY_DEPLOYMENT})
#: Reasons of a deployment change caused by its CustomModel getting new weights.
MODEL_REPLACED = frozenset({Reason.REPLACE_BECAUSE_MODEL_REPLACED,
                            Reason.UPDATE_BECAUSE_MODEL_REPLACED})

#: How a deployment is redeployed, by its action.
_HOW = {Action.REPLACE: "deleted and created again", Action.UPDATE: "updated"}

#: {CustomModel address: {version: [deployments using it]}}.
Uses = dict[ResourceAddress, dict[str, list[ResourceAddress]]]


def settle_custom_models(changes: Sequence[Change],
                         prior: Mapping[ResourceAddress, PriorResource]
                         ) -> tuple[list[Change], list[Diagnostic]]:
    """The changes with retired versions and notes added, and the refusals (see module doc)."""
    by_address = {c.address: c for c in changes}
    after, before = _uses(by_address, prior, planned=True), _uses(by_address, prior, planned=False)
    diagnostics: list[Diagnostic] = []
    settled = []
    for change in changes:
        if change.address.kind == CUSTOM_MODEL and not change.is_forget:
            change, found = _settle(change, prior.get(change.address), after, before,
                                    by_address)
            diagnostics += found
        elif change.reasons and MODEL_REPLACED & set(change.reasons):
            change = _redeploy_note(change)
        settled.append(change)
    return settled, diagnostics


def registered(prior: PriorResource | None) -> set[str]:
    """Every version of a CustomModel aimodels registered and has not deleted."""
    if prior is None:
        return set()
    found = set(prior.registered_versions)
    applied = prior.applied_spec.get("version")
    if applied is not None:
        found.add(str(applied))
    return found


def _uses(by_address: Mapping[ResourceAddress, Change],
          prior: Mapping[ResourceAddress, PriorResource], *, planned: bool) -> Uses:
    """Which deployment uses which version, after this plan (``planned``) or before it."""
    found: Uses = defaultdict(lambda: defaultdict(list))
    for address in sorted_addresses({*by_address, *prior}):
        if address.kind not in DEPLOYMENT_KINDS:
            continue
        change, known = by_address.get(address), prior.get(address)
        if planned and change is not None:
            spec = change.after
        else:
            spec = known.applied_spec if known else (change.before if change else None)
        model = (spec or {}).get("model") or {}
        if model.get("custom"):
            version = str(model.get("version") or "")
            found[ResourceAddress(CUSTOM_MODEL, str(model["custom"]))][version].append(address)
    return found


def _settle(change: Change, prior: PriorResource | None, after: Uses, before: Uses,
            by_address: Mapping[ResourceAddress, Change]) -> tuple[Change, list[Diagnostic]]:
    address = change.address
    if change.action is Action.DELETE:
        deleted = str((change.before or {}).get("version", ""))
        others = tuple(sorted(registered(prior) - {deleted}))
        return dataclasses.replace(change, retires=others), _refusals(address, after[address])
    planned = str((change.after or {}).get("version", ""))
    old = registered(prior) - {planned}
    keep_all = (change.after or {}).get("previousVersions") == "Keep"
    in_use = {v for v in old if after[address].get(v)}
    retire = set() if keep_all else old - in_use
    notes = [*_version_notes(old, retire, after[address], before[address], keep_all),
             *_replace_notes(change, by_address, after[address].get(planned, ()))]
    if retire and change.action is Action.NOOP:
        change = dataclasses.replace(change, action=Action.UPDATE,
                                     reasons=(Reason.UPDATE_BECAUSE_VERSIONS_UNUSED,))
    return dataclasses.replace(change, retires=tuple(sorted(retire)),
                               notes=(*change.notes, *notes)), []


def _refusals(address: ResourceAddress,
              users: Mapping[str, list[ResourceAddress]]) -> list[Diagnostic]:
    """One error per deployment that still runs a CustomModel this plan would destroy."""
    return [error(f"{address} cannot be destroyed: {user} still uses it",
                  f"{user} deploys version {version or '(newest)'} of it and stays after this "
                  f"plan. Destroy or change {user} in the same plan (remove it from the "
                  f"manifests, or point it at another model), or keep {address} in the "
                  "manifests.", address=str(address))
            for version, found in sorted(users.items()) for user in found]


def _version_notes(old: set[str], retire: set[str],
                   after: Mapping[str, list[ResourceAddress]],
                   before: Mapping[str, list[ResourceAddress]], keep_all: bool) -> list[str]:
    """What happens to each old version, one line each."""
    notes = []
    for version in sorted(old):
        if version in retire:
            movers = before.get(version, [])
            notes.append(f"version {version} is deleted after {_names(movers)} move off it"
                         if movers else f"version {version} is deleted: no deployment uses it")
        elif keep_all:
            notes.append(f"version {version} is kept (previousVersions: Keep); destroy "
                         "deletes it")
        else:
            notes.append(f"version {version} is kept while {_names(after[version])} use it; "
                         "a later apply deletes it once none does")
    return notes


def _replace_notes(change: Change, by_address: Mapping[ResourceAddress, Change],
                   users: Iterable[ResourceAddress]) -> list[str]:
    """For new weights under the same version: which deployments are redeployed, in order."""
    if change.action is not Action.REPLACE:
        return []
    planned = [u for u in users if (c := by_address.get(u)) is not None
               and MODEL_REPLACED & set(c.reasons)]
    outside = [u for u in users if u not in by_address]
    notes = []
    if planned:
        how = ", ".join(f"{u} ({_HOW[by_address[u].action]})" for u in planned)
        notes.append(f"then the deployments that run it are redeployed: {how}")
    if outside:
        notes.append(f"{_names(outside)} keep the old weights until a plan that includes them "
                     "redeploys them")
    return notes


def _redeploy_note(change: Change) -> Change:
    """A deployment redeployed because its CustomModel is replaced says which one."""
    model = (change.after or {}).get("model") or {}
    note = (f"{ResourceAddress(CUSTOM_MODEL, str(model.get('custom')))} is replaced (new "
            f"weights under version {model.get('version')}): redeployed after they are "
            "registered")
    return dataclasses.replace(change, notes=(*change.notes, note))


def _names(addresses: Iterable[ResourceAddress]) -> str:
    return ", ".join(str(a) for a in addresses)
