"""The state lock a writing use case runs under (apply, destroy, import): taken when the
session opens, released and the backend closed when it ends."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

from aimodels.model.desired import Stack
from aimodels.state.backend import StateBackend, StateLock, open_backend


def lock_state(stack: Stack, env: Mapping[str, str],
               command: str) -> tuple[StateBackend, StateLock]:
    """The Stack's state backend, locked for ``command`` (closed again when the lock is
    refused, so a refused run leaves nothing open)."""
    backend = open_backend(stack, env)
    try:
        return backend, backend.lock(command)
    except BaseException:
        backend.close()
        raise


class LockedSession:
    """A session holding ``backend`` locked by ``lock``; as a context manager, it releases the
    lock and closes the backend on the way out, whatever happened inside."""

    def __init__(self, backend: StateBackend, lock: StateLock) -> None:
        self.backend = backend
        self._lock = lock

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._lock.release()
        finally:
            self.backend.close()
