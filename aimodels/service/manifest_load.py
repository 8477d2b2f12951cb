"""The manifests, loaded in a worker thread that starts before the command has imported the
rest of what it needs.

The loader hands over the Stack as soon as it has read it (``load_manifests(on_stack=...)``),
for the early reads of ``service.prefetch``, then waits until those reads have started (the few
steps that start them would otherwise wait for the interpreter lock behind the YAML work), and
goes on while the command waits on the network.

A forked child process was tried instead (the load on the other core, its result pickled back):
on two cores, at 50 ms a request, it did not move the whole command's time (docs/performance.md,
"plan: a second core"), because the reads, not the CPU, are the critical path; it was removed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from aimodels.manifest.result import LoadResult
from aimodels.model.desired import Stack

T = TypeVar("T")

#: How long the loader waits, once it has handed over the Stack, for the early listings to start.
_START_WAIT_SECONDS = 5.0


class ManifestLoad:
    """One load of the manifests under ``paths``, started at once; ``stack()`` and ``result()``
    await it from the event loop; ``close()`` (or leaving a ``with``) ends it."""

    def __init__(self, paths: Sequence[str], *, env: Mapping[str, str], strict_env: bool) -> None:
        self._paths = tuple(paths)
        self._env = env
        self._strict_env = strict_env
        self._stack: concurrent.futures.Future[Stack | None] = concurrent.futures.Future()
        self._result: concurrent.futures.Future[LoadResult] = concurrent.futures.Future()
        self._released = threading.Event()

    @classmethod
    def start(cls, paths: Sequence[str], *, env: Mapping[str, str],
              strict_env: bool) -> ManifestLoad:
        """Start loading in a worker thread (a daemon: a command that ends first does not wait
        for it)."""
        load = cls(paths, env=env, strict_env=strict_env)
        threading.Thread(target=load._load, name="aimodels-manifests", daemon=True).start()
        return load

    def __enter__(self) -> ManifestLoad:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def stack(self) -> Stack | None:
        """The first Stack valid on its own, or None when the load ended without one."""
        return await asyncio.wrap_future(self._stack)

    def finished(self) -> bool:
        """Whether the result (or the error) is already known."""
        return self._result.done()

    def release(self) -> None:
        """Let the loader go on after handing over the Stack (the early reads started)."""
        self._released.set()

    async def result(self) -> LoadResult:
        """The loaded manifests; raises what ``load_manifests`` raises."""
        return await asyncio.wrap_future(self._result)

    def close(self) -> None:
        """The command is done with the manifests: let a held loader go on."""
        self.release()

    def _load(self) -> None:
        from aimodels.manifest.load import load_manifests

        def on_stack(stack: Stack) -> None:
            self._offer_stack(stack)
            self._released.wait(_START_WAIT_SECONDS)

        try:
            result = load_manifests(self._paths, env=self._env, strict_env=self._strict_env,
                                    on_stack=on_stack)
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            error = exc
            self._offer_stack(None)
            _settle(self._result, lambda future: future.set_exception(error))
            return
        self._offer_stack(None)
        _settle(self._result, lambda future: future.set_result(result))

    def _offer_stack(self, stack: Stack | None) -> None:
        if not self._stack.done():
            _settle(self._stack, lambda future: future.set_result(stack))


def _settle(future: concurrent.futures.Future[T],
            action: Callable[[concurrent.futures.Future[T]], object]) -> None:
    """``action(future)``, unless the command cancelled the future (Ctrl-C): no one waits."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        action(future)
