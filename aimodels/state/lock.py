"""The state lock: one writer at a time per state folder, ``.aimodels/state.lock``.

The lock is a small JSON file (id, owner, host, pid, command, created) that appears atomically
and whole: we write it to a temporary file, then hard-link it to ``state.lock``, which, like
``open(O_CREAT | O_EXCL)``, fails if the name exists, but never shows a half-written lock to
a reader. A second acquirer fails fast (PreconditionError, exit 6) and is told who holds the
lock; when the holder's pid is gone on this same host, it is told the lock is stale and the
exact ``aimodels force-unlock LOCK_ID`` to run. We never break a lock on our own: a pid on
another host cannot be checked, and a wrong guess means two writers.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aimodels.errors import AimodelsError, PreconditionError
from aimodels.state.local import check_state_folder, fsync_dir

LOCK_FILE = "state.lock"


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds the lock: shown to whoever is refused it. ``created`` is ISO 8601 UTC."""

    id: str
    owner: str
    host: str
    pid: int
    command: str
    created: str

    def describe(self, now: float | None = None) -> str:
        """``root@host pid 1234 (`aimodels apply`) since 10:02:11 UTC`` (with the date when
        the lock is not from today)."""
        created = datetime.fromisoformat(self.created)
        today = datetime.fromtimestamp(time.time() if now is None else now, UTC).date()
        shown = created.strftime("%H:%M:%S" if created.date() == today else "%Y-%m-%d %H:%M:%S")
        return f"{self.owner}@{self.host} pid {self.pid} (`{self.command}`) since {shown} UTC"

    def is_stale(self) -> bool:
        """True when the holder ran on this host and its process is gone."""
        return self.host == socket.gethostname() and not _pid_alive(self.pid)


class LockHandle:
    """A held lock; ``release()`` it, or use it as a context manager."""

    def __init__(self, path: Path, info: LockInfo) -> None:
        self.path = path
        self.info = info
        self.released = False
        #: Never set: a local lock is only removed by its holder or by force-unlock.
        self.previous: LockInfo | None = None

    def release(self) -> None:
        """Remove the lock if it is still ours (a force-unlock may have taken it away)."""
        if self.released:
            return
        self.released = True
        current = _read(self.path)
        if current is not None and current.id == self.info.id:
            _remove(self.path)

    def __enter__(self) -> LockHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def acquire_lock(
    folder: str | os.PathLike[str], command: str, *, clock: Callable[[], float] = time.time
) -> LockHandle:
    """Take the lock of the state in ``folder`` for ``command`` or raise PreconditionError."""
    path = Path(folder) / LOCK_FILE
    check_state_folder(path.parent)
    info = new_lock_info(command, clock())
    for _ in range(3):  # the holder may release between our attempt and our read
        if _create(path, info):
            return LockHandle(path, info)
        held = _read(path)
        if held is not None:
            raise _held_error(held, clock())
    raise PreconditionError(f"Could not take the state lock {path}: it keeps changing hands")


def read_lock(folder: str | os.PathLike[str]) -> LockInfo | None:
    """Who holds the lock of the state in ``folder``, or None when it is free."""
    return _read(Path(folder) / LOCK_FILE)


def force_unlock(folder: str | os.PathLike[str], lock_id: str) -> LockInfo:
    """Remove the lock ``lock_id`` left by a process that is gone; returns what it was.

    Refuses (PreconditionError) when the lock held has another id, so a typo or an old id
    cannot take the lock from a run that is still going.
    """
    path = Path(folder) / LOCK_FILE
    check_state_folder(path.parent)
    held = _read(path)
    if held is None:
        raise AimodelsError(f"The state in {Path(folder)} is not locked: nothing to unlock")
    if held.id != lock_id:
        raise PreconditionError(
            f"Lock id {lock_id} does not match the lock held by {held.describe()} (id {held.id})",
            hint="Copy the id from the message that reported the lock.",
        )
    _remove(path)
    return held


def new_lock_info(command: str, now: float) -> LockInfo:
    """Who we are, for a lock taken now by ``command``: a fresh id, user, host and pid."""
    created = datetime.fromtimestamp(now, UTC).replace(microsecond=0)
    return LockInfo(
        id=str(uuid.uuid4()),
        owner=_user(),
        host=socket.gethostname(),
        pid=os.getpid(),
        command=command,
        created=created.isoformat(),
    )


def _create(path: Path, info: LockInfo) -> bool:
    """Make ``path`` appear with ``info`` in it, whole; False if it already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise AimodelsError(f"Cannot take the state lock {path}: {exc.strerror or exc}",
                            hint="Check that the state folder is writable.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(info), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    fsync_dir(path.parent)
    return True


def _read(path: Path) -> LockInfo | None:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        info = LockInfo(**data)
        datetime.fromisoformat(info.created)  # describe() needs it; refuse garbage here
        texts = (info.id, info.owner, info.host, info.command, info.created)
        if type(info.pid) is not int or not all(isinstance(t, str) for t in texts):
            raise TypeError("a field of the lock has the wrong type")
        return info
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        raise PreconditionError(
            f"The state lock {path} is unreadable",
            hint=f"If no aimodels command is running on this state, delete {path}.",
        ) from exc


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        fsync_dir(path.parent)


def _held_error(held: LockInfo, now: float) -> PreconditionError:
    message = f"State is locked by {held.describe(now)}"
    if held.is_stale():
        return PreconditionError(
            f"{message}; that process is gone from this host, so the lock is stale",
            hint=f"Run `aimodels force-unlock {held.id}`, then try again.",
        )
    return PreconditionError(
        message,
        hint=f"Wait for it to finish. If it is gone, run `aimodels force-unlock {held.id}`.",
    )


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
