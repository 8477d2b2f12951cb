"""What the ``state list|show|rm|rehome`` and ``force-unlock`` commands call: one function each,
taking the state file path (``default_state_path(stack_file)``) and returning values for the
CLI to render. Writes take the state lock for their duration.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from aimodels.errors import AimodelsError, UsageError
from aimodels.model.address import ResourceAddress
from aimodels.state.local import read_state, write_state
from aimodels.state.lock import LockInfo, acquire_lock
from aimodels.state.lock import force_unlock as _force_unlock
from aimodels.state.values import ResourceState, StackIdentity, State


def list_resources(state_path: str | os.PathLike[str]) -> list[ResourceState]:
    """Every resource in state, sorted by address (empty when there is no state yet)."""
    return list(read_state(state_path).resources)


def show_resource(state_path: str | os.PathLike[str], address: str) -> ResourceState:
    """The resource at ``address``; AimodelsError when state does not hold it."""
    return _require(read_state(state_path), Path(state_path), address)


def remove_resource(
    state_path: str | os.PathLike[str], address: str, *, stack: StackIdentity | None = None,
    command: str = "aimodels state rm",
) -> ResourceState:
    """Forget ``address`` (Azure is not touched), under the lock, in one atomic write;
    returns what was forgotten. With ``stack``, a state of another Stack is refused."""
    path = Path(state_path)
    with acquire_lock(path.parent, command):
        state = read_state(path, stack)
        removed = _require(state, path, address)
        write_state(path, state.without(removed.address))
    return removed


def rehome_state(
    state_path: str | os.PathLike[str], stack: StackIdentity, seen: State, *,
    command: str = "aimodels state rehome",
) -> State:
    """Record ``stack`` as the Stack the state belongs to, under the lock, in one atomic write;
    returns what was written. ``seen`` is the state the user was shown: if the file moved
    since (another run wrote it), PreconditionError, and nothing is written."""
    path = Path(state_path)
    with acquire_lock(path.parent, command):
        if not path.exists():
            raise AimodelsError(f"There is no state file at {path}: nothing to rehome")
        return write_state(path, replace(seen, stack=stack))


def force_unlock(state_path: str | os.PathLike[str], lock_id: str) -> LockInfo:
    """Release the lock ``lock_id`` of the state at ``state_path``; returns who held it."""
    return _force_unlock(Path(state_path).parent, lock_id)


def _require(state: State, path: Path, address: str) -> ResourceState:
    try:
        canonical = str(ResourceAddress.parse(address))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    found = state.get(canonical)
    if found is None:
        raise AimodelsError(
            f"{canonical} is not in the state ({path})",
            hint="`aimodels state list` shows the addresses it holds.",
        )
    return found
