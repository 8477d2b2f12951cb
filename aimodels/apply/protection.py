"""The executor's last word on ``lifecycle.preventDestroy``: before anything is sent, every
delete the plan would run (a DELETE, the delete half of a REPLACE) is checked against the
manifests loaded for this run and the state as it is now, under the lock.

The planner already refuses such a plan, but apply does not trust the plan for this: a saved
plan file can be edited, or made before the guard was added. The rule is the planner's
(``destroy_protected``: the manifest's flag when the manifests declare the resource, else the
state's). During the run the state changes only through this run's own writes, and none of
them can turn a guard on for an address it also deletes (a change per address), so checking
once before the first write is checking just before each delete.
"""

from __future__ import annotations

from collections.abc import Iterable

from aimodels.errors import PreconditionError
from aimodels.model.desired import DesiredState
from aimodels.plan.graph import steps_of
from aimodels.plan.planner import destroy_protected
from aimodels.plan.values import Change
from aimodels.state.values import State


def protected_deletes(changes: Iterable[Change], desired: DesiredState,
                      state: State) -> list[Change]:
    """The ``changes`` would delete a resource ``preventDestroy`` protects."""
    found = []
    for change in changes:
        if not any(step.operation == "delete" for step in steps_of(change)):
            continue
        entry = state.get(str(change.address))
        recorded = bool(entry and entry.prevent_destroy)
        if destroy_protected(desired.resources.get(change.address), recorded):
            found.append(change)
    return found


def refuse_protected_deletes(changes: Iterable[Change], desired: DesiredState,
                             state: State) -> None:
    """Raise PreconditionError (exit 6) before any write when ``changes`` would delete a
    protected resource; nothing is deleted then, nor anything else changed. Used by the
    executor, and by ``apply FILE`` before it reads Azure (a saved plan can be edited)."""
    refused = protected_deletes(changes, desired, state)
    if not refused:
        return
    names = ", ".join(str(c.address) for c in refused)
    raise PreconditionError(
        f"refused: {names} {'has' if len(refused) == 1 else 'have'} lifecycle.preventDestroy, "
        "and this plan would delete "
        f"{'it' if len(refused) == 1 else 'them'}; nothing was changed",
        hint="Set lifecycle.preventDestroy: false in the manifest (and apply it) if the delete "
             "is intended, then plan again. A saved plan that deletes it anyway was edited: "
             "do not use it.")
