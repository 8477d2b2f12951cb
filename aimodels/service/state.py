"""What the ``state`` and ``force-unlock`` commands call: one function each, taking the
state's backend (or the path of a local state file) and returning values for the CLI to
render. Writes take the state lock for their duration.

Besides inspection and repair (``list``, ``show``, ``rm``, ``rehome``, ``force-unlock``):

- ``history`` / ``restore``: the earlier states a backend keeps (the azureblob backend's
  snapshots). A restore writes the old content as a new version (serial bumped, so saved
  plans made before it are stale), and the state it replaces is itself kept.
- ``push`` / ``pull``: move a local state file into the Stack's azureblob backend and back,
  refusing to overwrite another lineage or a newer serial of the same one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from aimodels.errors import AimodelsError, PreconditionError, UsageError
from aimodels.model.address import ResourceAddress
from aimodels.state.backend import (
    UPLOAD_SPEED_FILE,
    LocalBackend,
    RecordFolder,
    StateBackend,
    StateVersion,
    backend_of,
)
from aimodels.state.document import claim_state
from aimodels.state.lock import LockInfo
from aimodels.state.values import ResourceState, StackIdentity, State

Target = StateBackend | str | os.PathLike[str]


def list_resources(target: Target) -> list[ResourceState]:
    """Every resource in state, sorted by address (empty when there is no state yet)."""
    return list(backend_of(target).read().resources)


def show_resource(target: Target, address: str) -> ResourceState:
    """The resource at ``address``; AimodelsError when state does not hold it."""
    backend = backend_of(target)
    return _require(backend.read(), backend.where, address)


def remove_resource(target: Target, address: str, *, stack: StackIdentity | None = None,
                    command: str = "aimodels state rm") -> ResourceState:
    """Forget ``address`` (Azure is not touched), under the lock, in one atomic write;
    returns what was forgotten. With ``stack``, a state of another Stack is refused."""
    backend = backend_of(target)
    with backend.lock(command):
        state = backend.read()
        if stack is not None:
            state = claim_state(backend.where, state, stack)
        removed = _require(state, backend.where, address)
        backend.write(state.without(removed.address))
    return removed


def rehome_state(target: Target, stack: StackIdentity, seen: State, *,
                 command: str = "aimodels state rehome") -> State:
    """Record ``stack`` as the Stack the state belongs to, under the lock, in one atomic write;
    returns what was written. ``seen`` is the state the user was shown: if the state moved
    since (another run wrote it), PreconditionError, and nothing is written."""
    backend = backend_of(target)
    with backend.lock(command):
        if not backend.exists():
            raise AimodelsError(f"There is no {backend.where}: nothing to rehome")
        return backend.write(replace(seen, stack=stack))


def force_unlock(target: Target, lock_id: str) -> LockInfo:
    """Release the lock ``lock_id`` of the state; returns who held it."""
    return backend_of(target).force_unlock(lock_id)


def state_history(target: Target) -> list[StateVersion]:
    """The earlier states the backend keeps, oldest first."""
    return backend_of(target).history()


def restore_state(target: Target, version_id: str, seen: State, stack: StackIdentity, *,
                  command: str = "aimodels state restore") -> State:
    """Make the earlier state ``version_id`` the current one, under the lock; returns what was
    written. ``seen`` is the current state the user was shown (PreconditionError if it moved
    since). The version must be of the same lineage and of this Stack."""
    backend = backend_of(target)
    with backend.lock(command):
        earlier = claim_state(f"snapshot {version_id}", backend.read_version(version_id), stack)
        if backend.exists() and earlier.lineage != seen.lineage:
            raise PreconditionError(
                f"Snapshot {version_id} is of lineage {earlier.lineage}, the {backend.where} "
                f"of lineage {seen.lineage}: it is a state of another history",
                hint="Restore a snapshot of the current lineage (`aimodels state history`).")
        return backend.write(replace(earlier, serial=seen.serial), replacing=seen)


@dataclass(frozen=True, slots=True)
class Move:
    """A state about to move from one backend to another: what each side holds now."""

    source: State
    target: State
    target_exists: bool
    resources: int


def check_move(source: StateBackend, target: StateBackend, stack: StackIdentity) -> Move:
    """What moving the state from ``source`` to ``target`` would do; refused when the source
    is empty or another Stack's, or when the target holds another lineage (with resources)
    or the same lineage at a serial as new or newer."""
    if not source.exists():
        raise AimodelsError(f"There is no {source.where}: nothing to move",
                            hint="Check the path, or the Stack's state block.")
    moving = claim_state(source.where, source.read(), stack)
    there = target.read()
    exists = target.exists()
    if exists:
        claim_state(target.where, there, stack)
        if there.lineage != moving.lineage and there.resources:
            raise PreconditionError(
                f"The {target.where} holds another state (lineage {there.lineage}, "
                f"{len(there.resources)} resources); moving lineage {moving.lineage} over it "
                "would lose those", hint="Move that state away first, or pick another place.")
        if there.lineage == moving.lineage and there.serial >= moving.serial:
            raise PreconditionError(
                f"The {target.where} is as new as the {source.where} or newer (serial "
                f"{there.serial}, against {moving.serial}): there is nothing to move",
                hint="Move it the other way if that is what you meant.")
    return Move(moving, there, exists, len(moving.resources))


def move_state(source: StateBackend, target: StateBackend, stack: StackIdentity,
               seen: Move, *, command: str) -> State:
    """Copy the state and its upload records from ``source`` to ``target`` under both locks,
    checked again (``check_move``) against what the user was shown; returns what was written.
    Refused while ``source`` has an unfinished apply in its journal. A local state file moved
    away is renamed ``*.pushed``, so that going back to the local backend without ``state
    pull`` finds no stale state instead of using it."""
    with source.lock(command), target.lock(command):
        now = check_move(source, target, stack)
        if (now.source.lineage, now.source.serial, now.target.serial) != \
                (seen.source.lineage, seen.source.serial, seen.target.serial):
            raise PreconditionError("The state changed since it was shown: nothing was moved",
                                    hint="Run the command again to see it as it is now.")
        journal = source.journal()
        if journal.pending():
            raise PreconditionError(
                f"The {journal.where} lists an apply that was interrupted: nothing was moved",
                hint="Run `aimodels apply` where that state is used first: it settles them.")
        written = target.write(now.source, replacing=now.target)
        _copy_records(source.upload_records(), target.upload_records())
        if isinstance(source, LocalBackend):
            source.path.replace(source.path.with_name(source.path.name + ".pushed"))
        return written


def _copy_records(source: RecordFolder, target: RecordFolder) -> None:
    """Resumable-upload records follow the state, so an interrupted upload resumes there."""
    for name in source.names():
        data = source.read(name) if name.endswith(".json") else None
        if data is not None and name != UPLOAD_SPEED_FILE:
            target.write(name, data)


def _require(state: State, where: str, address: str) -> ResourceState:
    try:
        canonical = str(ResourceAddress.parse(address))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    found = state.get(canonical)
    if found is None:
        raise AimodelsError(
            f"{canonical} is not in the state ({where})",
            hint="`aimodels state list` shows the addresses it holds.",
        )
    return found
