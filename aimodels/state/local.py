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
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import jsonschema

from aimodels.errors import AimodelsError, PreconditionError
from aimodels.model.kinds import RESOURCE_KINDS
from aimodels.state.values import FORMAT_VERSION, STATE_SCHEMA, StackIdentity, State

STATE_DIR = ".aimodels"
STATE_FILE = "state.json"

_RESTORE_HINT = ("Restore it from version control or a backup; aimodels never writes half a "
                 "file.")

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
    """``state`` as the state of ``stack``, which its next write records.

    A state that records another Stack raises AimodelsError naming both (exit 1: the state is
    wrong for these manifests, not stale, so running again would not help). A state that
    records none, new or written before aimodels recorded it, is taken as this Stack's.
    """
    if state.stack is None:
        return replace(state, stack=stack)
    if state.stack.matches(stack):
        return state
    raise AimodelsError(
        f"The state file {path} belongs to another Stack:\n"
        f"  the state records     {state.stack.describe()}, lineage {state.lineage}\n"
        f"  the manifests declare {stack.describe()}\n"
        "Used here, it would make the other Stack's resources this one's and plan those "
        "not in these manifests for deletion, so it is refused",
        hint="If the state was copied here by mistake, put this Stack's own state back (or "
        "move this file away to start with an empty state). If this Stack really was renamed "
        "or moved, run `aimodels state rehome` with the same -f to make the state its own.",
    )


def _read(path: Path) -> State:
    check_state_folder(path.parent)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State.new()
    except OSError as exc:
        raise AimodelsError(f"Cannot read the state file {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AimodelsError(
            f"The state file {path} is not UTF-8 text (byte {exc.start}): it is not a state "
            "file aimodels wrote, or it was damaged",
            hint=_RESTORE_HINT,
        ) from exc
    return State.from_dict(_parse(path, text))


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


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond any state
        raise AimodelsError(
            f"The state file {path} is not valid JSON (line {getattr(exc, 'lineno', '?')}): "
            "it may have been edited by hand or truncated",
            hint=_RESTORE_HINT,
        ) from exc
    version = data.get("formatVersion") if isinstance(data, dict) else None
    if isinstance(data, dict) and version != FORMAT_VERSION:
        raise AimodelsError(
            f"The state file {path} has formatVersion {version!r}; this aimodels reads "
            f"formatVersion {FORMAT_VERSION}",
            hint="Use the aimodels version that wrote it, or upgrade aimodels.",
        )
    problem = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(STATE_SCHEMA).iter_errors(data)
    )
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "(top level)"
        what = problem.message
        if where.endswith("/address") and problem.validator == "pattern":
            what = (f"{problem.instance!r} is not Kind/name with a known kind "
                    f"({', '.join(RESOURCE_KINDS)})")
        raise AimodelsError(f"The state file {path} is invalid at {where}: {what}",
                            hint=_RESTORE_HINT)
    _check_unique(path, data)
    return data


def _check_unique(path: Path, data: dict[str, Any]) -> None:
    """Every address once (one pass: state files of thousands of resources stay fast)."""
    seen: set[str] = set()
    duplicates: set[str] = set()
    for item in data["resources"]:
        address = item["address"]
        (duplicates if address in seen else seen).add(address)
    if duplicates:
        raise AimodelsError(
            f"The state file {path} lists {', '.join(sorted(duplicates))} more than once")


def write_state(
    path: str | os.PathLike[str], state: State, *, write: Writer | None = None
) -> State:
    """Write ``state`` atomically with its serial bumped, and return what was written.

    Raises PreconditionError when the file on disk is not the one ``state`` was read from.
    """
    path = Path(path)
    _check_not_moved(path, state)
    written = replace(state, serial=state.serial + 1)
    data = (json.dumps(written.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")
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
