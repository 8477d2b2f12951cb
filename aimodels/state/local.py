"""The local state backend: one JSON file, ``.aimodels/state.json`` beside the Stack file.

Writes are atomic: the new content goes to a temporary file in the same folder, is flushed and
fsynced, then ``os.replace``d over the old file, and the folder is fsynced so the rename
survives a power cut. A crash at any point leaves either the old file or the new one, never
half of one. Each write bumps ``serial``, and a write is refused when the file on disk has
moved on since it was read (another lineage or a newer serial): the lock should prevent that,
and this is the check that notices when it did not.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO

from aimodels.errors import AimodelsError, PreconditionError
from aimodels.state.document import claim_state as claim
from aimodels.state.document import encode_state, parse_state
from aimodels.state.values import StackIdentity, State

STATE_DIR = ".aimodels"
STATE_FILE = "state.json"

#: Writes ``data`` to an open file; injected by tests to simulate a crash mid-write.
Writer = Callable[[IO[bytes], bytes], None]


def default_state_path(stack_file: str | os.PathLike[str]) -> Path:
    """``.aimodels/state.json`` in the folder of the Stack manifest."""
    return Path(stack_file).parent / STATE_DIR / STATE_FILE


def read_state(path: str | os.PathLike[str], stack: StackIdentity | None = None) -> State:
    """The state in ``path``; a new empty State (fresh lineage, serial 0) when there is none.

    A file that is not JSON, has an unknown ``formatVersion`` or does not match the schema
    raises AimodelsError naming the file. With ``stack``, the state must belong to that Stack
    (``claim_state``); without it, the file is read as it is (for inspection only).
    """
    path = Path(path)
    state = _read(path)
    return state if stack is None else claim_state(path, state, stack)


def claim_state(path: Path, state: State, stack: StackIdentity) -> State:
    """``document.claim_state`` for the state file at ``path``."""
    return claim(f"state file {path}", state, stack)


def _read(path: Path) -> State:
    check_state_folder(path.parent)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State.new()
    except OSError as exc:
        raise AimodelsError(f"Cannot read the state file {path}: {exc.strerror}") from exc
    return parse_state(f"state file {path}", raw)


def check_state_folder(folder: Path) -> None:
    """Refuse a state folder that exists as something other than a folder (a file named
    ``.aimodels``), with a message saying so rather than the OS's ``Not a directory``."""
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                where = "that folder" if place == folder else f"the folder {folder}"
                raise AimodelsError(
                    f"{place} is a file, but aimodels keeps its state in {where}",
                    hint=f"Move {place} out of the way (or set spec.state.path in the Stack "
                    "to put the state elsewhere), then run the command again.",
                )
            return


def write_state(
    path: str | os.PathLike[str], state: State, *, write: Writer | None = None,
    replacing: State | None = None,
) -> State:
    """Write ``state`` atomically with its serial bumped, and return what was written.

    ``replacing`` is the state read from the file that this write replaces (by default
    ``state`` itself; another one when a state is moved or restored into the file). Raises
    PreconditionError when the file on disk is not that one.
    """
    path = Path(path)
    base = replacing or state
    _check_not_moved(path, base)
    written = replace(state, serial=max(state.serial, base.serial) + 1)
    data = encode_state(written)
    try:
        atomic_write(path, data, write=write or _write_all)
    except OSError as exc:
        raise AimodelsError(
            f"Could not write the state file {path}: {exc.strerror or exc}",
            hint="The previous state file is intact; fix the cause and run the command again.",
        ) from exc
    return written


def _check_not_moved(path: Path, state: State) -> None:
    if not path.exists():
        if state.serial == 0:
            return
        raise PreconditionError(f"The state file {path} has disappeared since it was read")
    on_disk = read_state(path)
    if on_disk.lineage != state.lineage or on_disk.serial != state.serial:
        raise PreconditionError(
            f"The state file {path} changed since it was read (lineage {on_disk.lineage}, "
            f"serial {on_disk.serial}; expected {state.lineage}, serial {state.serial})",
            hint="Another aimodels run wrote it: run the command again to start from it.",
        )


def atomic_write(path: Path, data: bytes, *, write: Writer | None = None) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            (write or _write_all)(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(handle: IO[bytes], data: bytes) -> None:
    handle.write(data)
