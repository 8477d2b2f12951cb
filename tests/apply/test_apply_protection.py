"""``refuse_protected_deletes``: no change of a saved plan (whose file anyone able to write it can
alter) deletes or replaces a resource that lifecycle.preventDestroy protects now, by the
planner's rule: the manifest's flag when the manifests declare the address, else the state's."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_support import address, resource

from aimodels.apply.protection import protected_deletes, refuse_protected_deletes
from aimodels.errors import EXIT_CONFLICT, PreconditionError, SourceLocation
from aimodels.model.desired import DesiredState, Stack
from aimodels.plan.values import Action, Change, Reason
from aimodels.state.values import ResourceState, State

SPEC = {"sourceType": "HuggingFace"}


def desired(tmp_path: Path, **guarded: bool) -> DesiredState:
    stack = Stack("s", "local", "sub", "rg", "eastus", SourceLocation("stack.yaml"), tmp_path)
    resources = {address(f"ModelSource/{name}"): resource("ModelSource", name, SPEC, tmp_path,
                                                          prevent_destroy=flag)
                 for name, flag in guarded.items()}
    return DesiredState(stack, resources)


def state(**guarded: bool) -> State:
    entries = [ResourceState(f"ModelSource/{name}", f"/ids/{name}", prevent_destroy=flag)
               for name, flag in guarded.items()]
    return State("lineage", 1, "a" * 64, tuple(entries))


def change(name: str, action: Action) -> Change:
    reasons = {Action.DELETE: (Reason.DELETE_BECAUSE_NOT_IN_MANIFEST,),
               Action.REPLACE: (Reason.REPLACE_BECAUSE_REQUESTED,),
               Action.UPDATE: (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,)}[action]
    return Change(address(f"ModelSource/{name}"), action, reasons)


def test_the_manifest_decides_when_it_declares_the_address_else_the_state(
        tmp_path: Path) -> None:
    manifests = desired(tmp_path, kept=True, freed=False, plain=False)
    recorded = state(kept=False, freed=True, gone=True, plain=False, loose=False)
    names = ["kept", "freed", "gone", "loose", "unknown"]
    refused = protected_deletes([change(n, Action.DELETE) for n in names], manifests, recorded)
    assert [str(c.address) for c in refused] == ["ModelSource/kept", "ModelSource/gone"]


@pytest.mark.parametrize("action", [Action.DELETE, Action.REPLACE])
def test_a_delete_or_replace_of_a_protected_resource_is_refused(
        tmp_path: Path, action: Action) -> None:
    changes = [change("free", Action.DELETE), change("kept", action), change("gone", action)]
    with pytest.raises(PreconditionError) as info:
        refuse_protected_deletes(changes, desired(tmp_path, kept=True),
                                 state(gone=True, free=False))
    assert info.value.exit_code == EXIT_CONFLICT
    assert "ModelSource/kept, ModelSource/gone have lifecycle.preventDestroy" in info.value.message


def test_updates_and_unprotected_deletes_go_through(tmp_path: Path) -> None:
    # Passing means not raising: an update of a protected resource is no destroy.
    refuse_protected_deletes([change("kept", Action.UPDATE), change("free", Action.DELETE)],
                     desired(tmp_path, kept=True), state(free=False))
