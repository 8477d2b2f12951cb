"""make_plan: desired + live + prior (state) in, a deterministic Plan out. Pure.

No clock, network, environment or file: whatever must be read first (live bodies, hashed
weights, secret digests, the state) arrives as values. This is the only code that chooses an
``Action``. For each address of the manifests and the state:

- in the manifests, nothing live: CREATE (``recreate_because_deleted_outside`` if the state
  knew it);
- in the manifests and live, known to the state: NOOP, UPDATE or REPLACE from the field diff;
  a deployment whose provisioning failed in Azure is sent again (UPDATE) even when no field
  differs, since the PUT is what makes the service retry it; a ``lifecycle`` that differs from
  the one the state recorded adds ``spec.lifecycle.*`` field changes, and alone makes a record
  (a NOOP with field changes: apply writes the state, Azure is not called), so that
  ``preventDestroy`` added to an existing resource is guarding it from the next apply on;
- in the manifests and live, unknown to the state: an error naming ``aimodels import``
  (never adopted silently);
- in the state only: DELETE if live, else a forget (the state entry is dropped);
- with ``destroy=True`` (``aimodels destroy``): every address of the state is a DELETE (or a
  forget), because destroy was requested, whatever the manifests say;
- ``lifecycle.preventDestroy`` (from the manifest, else from the state: ``destroy_protected``)
  turns a DELETE or REPLACE into an error diagnostic; the change stays in the plan so it can be
  shown;
- a CustomModel's old versions and the deployments that run it: ``plan.model_versions``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimodels.errors import Diagnostic, error, warning
from aimodels.model.address import ResourceAddress, sorted_addresses
from aimodels.model.desired import DesiredResource, DesiredState
from aimodels.model.kinds import CUSTOM_MODEL, FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.plan.diff import (
    ResourceDiff,
    SecretDigests,
    get_path,
    is_missing,
    mask,
    remembered,
    with_defaults,
)
from aimodels.plan.graph import Graph
from aimodels.plan.model_versions import settle_custom_models
from aimodels.plan.provider import (
    DEPLOYED_DIGEST,
    Provider,
    ProviderContext,
    ProviderRegistry,
    check_applied_specs,
)
from aimodels.plan.values import (
    LIFECYCLE_PATH,
    Action,
    Change,
    FieldChange,
    LiveObject,
    LiveState,
    Plan,
    PriorResource,
    Reason,
    ResolvedInputs,
)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """Everything one planning run reads, gathered so helpers take one argument."""

    desired: DesiredState
    live: LiveState
    prior: Mapping[ResourceAddress, PriorResource]
    registry: ProviderRegistry
    ctx: ProviderContext
    specs: Mapping[ResourceAddress, dict[str, Any]]
    depends_on: Mapping[ResourceAddress, tuple[ResourceAddress, ...]]
    replace: frozenset[ResourceAddress]
    destroy: bool = False


def make_plan(desired: DesiredState, live: LiveState,
              prior: Mapping[ResourceAddress, PriorResource], *,
              replace: Sequence[ResourceAddress] = (), targets: Sequence[ResourceAddress] = (),
              registry: ProviderRegistry, inputs: ResolvedInputs | None = None,
              state_lineage: str = "", state_serial: int = 0, destroy: bool = False) -> Plan:
    """Plan every address of ``desired`` and ``prior``, or only ``targets`` and what they need.

    ``registry`` maps each kind to its provider (``providers.registry.default_registry``).

    ``inputs`` carries the hashed weights and secret digests the CLI resolved; ``state_lineage``
    and ``state_serial`` are recorded so a saved plan can be refused once the state moved.
    ``destroy`` plans the deletion of everything in ``prior`` (``aimodels destroy``); the
    manifests then only order the deletes and say which resources are protected.
    """
    check_applied_specs(prior, registry)
    run = _gather(desired, live, prior, registry, inputs, replace,
                  destroy)
    graph = Graph(run.depends_on)
    diags = _cycle_diagnostics(graph)
    scope = _scope(graph, targets)
    diags += _unmatched(targets, set(graph.nodes), "--target")
    changes = [change for address in sorted_addresses(scope)
               if (change := _plan_one(run, address, diags)) is not None]
    changes, found = settle_custom_models(changes, run.prior)
    diags += found
    diags += _guard_destroy(run, changes)
    diags += [] if destroy else _dangling_references(run, changes)
    diags += _unmatched(replace, scope, "--replace")
    return Plan.build(changes, diags, desired_digest=desired.digest(),
                      state_lineage=state_lineage, state_serial=state_serial,
                      targets=tuple(sorted(set(targets))))


def _gather(desired: DesiredState, live: LiveState,
            prior: Mapping[ResourceAddress, PriorResource], registry: ProviderRegistry,
            inputs: ResolvedInputs | None, replace: Sequence[ResourceAddress],
            destroy: bool) -> _Inputs:
    ctx = ProviderContext(desired.stack, inputs or ResolvedInputs(), desired.resources)
    specs = {a: registry.for_address(a).normalize(r, ctx) for a, r in desired.resources.items()}
    known = set(specs) | set(prior)
    depends_on = {a: _references(a, specs, prior, registry, known)
                  for a in sorted_addresses(known)}
    return _Inputs(desired, live, prior, registry, ctx, specs, depends_on, frozenset(replace),
                   destroy)


def _references(address: ResourceAddress, specs: Mapping[ResourceAddress, dict[str, Any]],
                prior: Mapping[ResourceAddress, PriorResource], registry: ProviderRegistry,
                known: set[ResourceAddress]) -> tuple[ResourceAddress, ...]:
    """What a resource names in the manifests or named when last applied, among those we know:
    the old references order the delete half of a replacement."""
    provider = registry.for_address(address)
    found = set(provider.references(specs.get(address, {})))
    if address in prior:
        found |= set(provider.references(prior[address].applied_spec))
    return tuple(sorted(found & known))


def _cycle_diagnostics(graph: Graph[ResourceAddress]) -> list[Diagnostic]:
    cycle = graph.find_cycle()
    if not cycle:
        return []
    path = " -> ".join(str(a) for a in cycle)
    return [error("dependency cycle", f"{path}: break one of these references.",
                  address=str(cycle[0]))]


def _scope(graph: Graph[ResourceAddress],
           targets: Sequence[ResourceAddress]) -> set[ResourceAddress]:
    """All known addresses, or the targets plus everything they depend on."""
    nodes = set(graph.nodes)
    if not targets:
        return nodes
    found = [t for t in targets if t in nodes]
    return set(found) | graph.ancestors(found)


def _unmatched(asked: Sequence[ResourceAddress], scope: set[ResourceAddress],
               flag: str) -> list[Diagnostic]:
    return [warning(f"{flag} {a} matches nothing planned",
                    "It is in neither the manifests nor the state (or outside the targets).",
                    address=str(a)) for a in sorted(set(asked) - scope)]


def _plan_one(run: _Inputs, address: ResourceAddress, diags: list[Diagnostic]) -> Change | None:
    live, prior = run.live.get(address), run.prior.get(address)
    resource = run.desired.resources.get(address)
    if resource is None or run.destroy:
        return _delete(run, address, prior, live) if prior else None
    if live is None:
        return _create(run, resource, prior)
    if prior is None:
        diags.append(_import_error(address, live))
        return None
    return _compare(run, resource, prior, live)


def _create(run: _Inputs, resource: DesiredResource, prior: PriorResource | None) -> Change:
    address = resource.address
    provider = run.registry.for_address(address)
    planned = with_defaults(run.specs[address], provider.policy.defaults)
    reason = Reason.RECREATE_BECAUSE_DELETED_OUTSIDE if prior else \
        Reason.CREATE_BECAUSE_NOT_IN_LIVE
    warnings = ("--replace: nothing is live, so it is only created",) \
        if address in run.replace else ()
    resource_id = provider.resource_id(address, planned, run.desired.stack)  # before masking
    return Change(address, Action.CREATE, (reason,),
                  after=mask(planned, provider.policy, owned=True), resource_id=resource_id,
                  depends_on=run.depends_on[address], warnings=warnings)


def _delete(run: _Inputs, address: ResourceAddress, prior: PriorResource,
            live: LiveObject | None) -> Change:
    provider = run.registry.for_address(address)
    if live is None:
        return Change(address, Action.NOOP, (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,),
                      resource_id=prior.resource_id, depends_on=run.depends_on[address],
                      warnings=("already deleted outside aimodels",))
    before = provider.recognize(prior.applied_spec, remembered(
        provider.from_live(live.body), prior.applied_spec, provider.policy.from_state))
    reason = Reason.DELETE_BECAUSE_DESTROY_REQUESTED if run.destroy else \
        Reason.DELETE_BECAUSE_NOT_IN_MANIFEST
    return Change(address, Action.DELETE, (reason,),
                  before=mask(with_defaults(before, provider.policy.defaults), provider.policy,
                              owned=True),
                  precondition_etag=live.etag, resource_id=live.resource_id,
                  live_resource_id=live.resource_id, depends_on=run.depends_on[address],
                  warnings=_operation_running(live))


def _compare(run: _Inputs, resource: DesiredResource, prior: PriorResource,
             live: LiveObject) -> Change:
    address = resource.address
    provider = run.registry.for_address(address)
    found = _diff(run, provider, resource, prior, live)
    action, reasons = _decide(found, prior, address in run.replace)
    if action is not Action.REPLACE and _provisioning_failed(address, live):
        action, reasons = Action.UPDATE, (*reasons, Reason.UPDATE_BECAUSE_PROVISIONING_FAILED)
    lifecycle = _lifecycle_changes(resource, prior)
    if lifecycle:
        reasons = (*reasons, Reason.RECORD_BECAUSE_LIFECYCLE_CHANGED)
    running = _operation_running(live) if action is not Action.NOOP else ()
    # masking changes found.planned and found.live in place (they are this change's own)
    resource_id = provider.resource_id(address, found.planned, run.desired.stack)
    return Change(
        address, action, reasons,
        field_changes=tuple(sorted(found.field_changes + lifecycle, key=lambda f: f.path)),
        before=mask(found.live, provider.policy, owned=True),
        after=mask(found.planned, provider.policy, owned=True),
        precondition_etag=live.etag,
        resource_id=resource_id,
        live_resource_id=live.resource_id,
        replace_paths=found.replace_paths if action is Action.REPLACE else (),
        depends_on=run.depends_on[address], warnings=(*found.warnings, *running))


def _lifecycle_changes(resource: DesiredResource,
                       prior: PriorResource) -> tuple[FieldChange, ...]:
    """The ``lifecycle`` fields that differ from what the state recorded (the order of
    ``ignoreChanges`` does not matter)."""
    wanted, out = resource.lifecycle, []
    if wanted.prevent_destroy != prior.prevent_destroy:
        out.append(FieldChange(f"{LIFECYCLE_PATH}preventDestroy", prior.prevent_destroy,
                               wanted.prevent_destroy))
    if sorted(wanted.ignore_changes) != sorted(prior.ignore_changes):
        out.append(FieldChange(f"{LIFECYCLE_PATH}ignoreChanges", list(prior.ignore_changes),
                               list(wanted.ignore_changes)))
    return tuple(out)


def _diff(run: _Inputs, provider: Provider, resource: DesiredResource, prior: PriorResource,
          live: LiveObject) -> ResourceDiff:
    live_spec = remembered(provider.from_live(live.body), prior.applied_spec,
                           provider.policy.from_state)
    secrets = SecretDigests(run.ctx.inputs.secret_digests.get(resource.address, {}),
                            prior.secret_digests)
    return provider.diff(run.specs[resource.address], live_spec,
                         ignore=tuple(resource.lifecycle.ignore_changes), secrets=secrets)


def _decide(found: ResourceDiff, prior: PriorResource,
            requested: bool) -> tuple[Action, tuple[Reason, ...]]:
    """The action for a resource that exists on both sides, and why."""
    reasons = list(found.reasons) if found.replace_paths else []
    if requested:
        reasons.append(Reason.REPLACE_BECAUSE_REQUESTED)
    if reasons:
        return Action.REPLACE, tuple(reasons)
    if found.field_changes:
        return Action.UPDATE, _update_reasons(found, prior)
    return Action.NOOP, ()


#: Kinds that a fresh PUT redeploys after a failed provisioning (the service starts over).
_REDEPLOYED_BY_PUT = frozenset({FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT})


def _provisioning_failed(address: ResourceAddress, live: LiveObject) -> bool:
    """Whether Azure reports the live deployment's provisioning as Failed."""
    properties = live.body.get("properties")
    state = properties.get("provisioningState") if isinstance(properties, Mapping) else None
    return address.kind in _REDEPLOYED_BY_PUT and str(state or "").lower() == "failed"


#: provisioningStates after which no operation runs on a resource (none at all means done).
_SETTLED_STATES = frozenset({"", "succeeded", "failed", "canceled", "cancelled"})


def _operation_running(live: LiveObject) -> tuple[str, ...]:
    """The warning for a change to a resource an operation is still running on (Updating...):
    apply waits for it to end, then the plan's ETag decides whether the change still goes."""
    properties = live.body.get("properties")
    state = properties.get("provisioningState") if isinstance(properties, Mapping) else None
    if str(state or "").lower() in _SETTLED_STATES:
        return ()
    return (f"an operation started outside aimodels is running (provisioningState {state}); "
            "apply waits for it, then checks the ETag",)


def _update_reasons(found: ResourceDiff, prior: PriorResource) -> tuple[Reason, ...]:
    """Edited in the manifests, changed outside aimodels (the manifest still says what was
    last applied), or both. Without a recorded applied spec we cannot tell: an edit. A reason
    the provider gives (new weights of a custom model) explains the deployed digest's change;
    the other fields are sorted as usual."""
    explained = {f"spec.{DEPLOYED_DIGEST}"} if found.reasons else set()
    fields = [c for c in found.field_changes if c.path not in explained]
    if not fields:
        return found.reasons
    if not prior.applied_spec:
        return (*found.reasons, Reason.UPDATE_BECAUSE_FIELDS_CHANGED)
    reasons = set()
    for change in fields:
        path = change.path.removeprefix("spec.")
        drifted = not change.sensitive and change.after == _or_none(
            get_path(prior.applied_spec, path))
        reasons.add(Reason.UPDATE_BECAUSE_CHANGED_OUTSIDE if drifted
                    else Reason.UPDATE_BECAUSE_FIELDS_CHANGED)
    return (*found.reasons, *sorted(reasons, key=lambda r: r.value, reverse=True))


def _or_none(value: object) -> object:
    return None if is_missing(value) else value


def _import_error(address: ResourceAddress, live: LiveObject) -> Diagnostic:
    return error(
        f"{address} already exists in Azure but aimodels does not manage it",
        "aimodels never adopts an existing resource silently. To manage this one, run:\n"
        f"  aimodels import {address} {live.resource_id}\n"
        "or give the manifest entry another name to create a new resource.",
        address=str(address))


def destroy_protected(resource: DesiredResource | None, recorded: bool) -> bool:
    """Whether ``lifecycle.preventDestroy`` forbids deleting or replacing a resource: the
    manifest's flag when the manifests declare it (so removing the flag there is how a delete
    is allowed), else the flag the state ``recorded`` (so removing the entry does not drop the
    guard). The planner and the executor's last check before a delete both use this rule."""
    return resource.lifecycle.prevent_destroy if resource is not None else recorded


def _guard_destroy(run: _Inputs, changes: list[Change]) -> list[Diagnostic]:
    """preventDestroy on every DELETE and REPLACE (``destroy_protected``)."""
    diags = []
    for change in changes:
        if change.action not in (Action.DELETE, Action.REPLACE):
            continue
        resource = run.desired.resources.get(change.address)
        prior = run.prior.get(change.address)
        if destroy_protected(resource, bool(prior and prior.prevent_destroy)):
            diags.append(_guard_error(change, in_manifest=resource is not None))
    return diags


def _guard_error(change: Change, *, in_manifest: bool) -> Diagnostic:
    verb = "replace" if change.action is Action.REPLACE else "destroy"
    cause = f" (forced by {', '.join(change.replace_paths)})" if change.replace_paths else ""
    if in_manifest:
        hint = ("Revert the change, or set lifecycle.preventDestroy: false first if this "
                f"{verb} is intended.")
    else:
        hint = ("The manifest entry is gone but the state keeps the guard. Restore the entry "
                "with preventDestroy: false and apply, or stop managing it without deleting: "
                f"aimodels state rm {change.address}.")
    return error(f"{change.address} has lifecycle.preventDestroy, and this plan would "
                 f"{verb} it{cause}", hint, address=str(change.address))


def _dangling_references(run: _Inputs, changes: list[Change]) -> list[Diagnostic]:
    """Warn when a resource of the manifests still references one this plan destroys (a
    CustomModel in use is refused instead: ``plan.model_versions``)."""
    doomed = {c.address for c in changes
              if c.action is Action.DELETE and c.address.kind != CUSTOM_MODEL}
    return [warning(f"{c.address} still references {ref}, which this plan destroys",
                    "Azure may refuse the delete while the reference stands, or the deployment "
                    "may stop working.", address=str(c.address))
            for c in changes if c.address in run.specs
            for ref in run.registry.for_address(c.address).references(run.specs[c.address])
            if ref in doomed]
