"""Locating the resource of a journal intent that does not say where it is.

An older aimodels wrote intents with only the address, the operation and the resource id.
Recovery must still find what such an intent may have created, or the resource would be left
out of the state and the next plan would ask for ``aimodels import``. The manifests say where a
create goes (the same plan ``apply`` made, with nothing live), and the state where an update or
delete acted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimodels.apply.entries import state_entry
from aimodels.apply.recovery import Locator, intent_details
from aimodels.errors import AimodelsError
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.planner import make_plan
from aimodels.plan.values import Action, Change, LiveState
from aimodels.providers.custommodel import custom_model_ref
from aimodels.providers.registry import default_registry
from aimodels.service.inputs import resolve_inputs, secret_values
from aimodels.state.journal import JournalEntry
from aimodels.state.values import State


def manifest_locator(desired: DesiredState, state: State, env: Mapping[str, str]) -> Locator:
    """A ``Locator`` for ``recover_pending``: intent details rebuilt from the manifests (a
    create) or the state (an update or delete); None when neither knows the address."""
    creates: dict[str, Change] | None = None

    def locate(intent: JournalEntry) -> Mapping[str, Any] | None:
        nonlocal creates
        known = state.get(intent.address)
        if intent.action != "create" and known is not None:
            return _where(ResourceAddress.parse(intent.address), known.resource_id,
                          known.desired)
        if creates is None:
            creates = _planned_creates(desired, state, env)
        change = creates.get(intent.address)
        if change is None:
            return _recorded(intent)
        digests = {path: state.secret_digest(value) for path, value in
                   secret_values(desired, env).get(change.address, {}).items()}
        entry = state_entry(change, None, resource=desired.resources.get(change.address),
                            prior=known, digests=digests)
        found = _where(change.address, change.resource_id, change.after or {})
        return intent_details(found["url"], found["api"], entry, found.get("params"))

    return locate


def _recorded(intent: JournalEntry) -> Mapping[str, Any] | None:
    """Where the intent itself says it acted (the ``resourceId`` older journals kept), for an
    address neither the manifests nor the state know: enough to see it, not to adopt it."""
    resource_id = intent.details.get("resourceId")
    if not isinstance(resource_id, str) or not resource_id:
        return None
    return _where(ResourceAddress.parse(intent.address), resource_id, {})


def _planned_creates(desired: DesiredState, state: State,
                     env: Mapping[str, str]) -> dict[str, Change]:
    """Every resource of the manifests as the plan would create it (nothing live)."""
    try:
        inputs = resolve_inputs(desired, state, env)
    except AimodelsError:
        return {}  # weights or secrets unreadable now: such intents stay unlocated
    plan = make_plan(desired, LiveState(), {}, registry=default_registry(), inputs=inputs)
    return {str(c.address): c for c in plan.changes if c.action is Action.CREATE}


def _where(address: ResourceAddress, resource_id: str,
           spec: Mapping[str, Any]) -> dict[str, Any]:
    """Where a resource is read back, as the writers' ``locate`` says: the ARM id, or the
    registry path and version of a CustomModel."""
    if address.kind != CUSTOM_MODEL:
        return {"url": resource_id, "api": "arm"}
    version = spec.get("version")
    params = {"version": str(version)} if version is not None else None
    return {"url": custom_model_ref(address.name), "api": "registry", "params": params}
