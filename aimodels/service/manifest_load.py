"""The manifests, loaded beside the command: in a forked child process where the system allows
it, else in a thread.

Loading a thousand manifests is a few tenths of a second of CPU (YAML, schema, rules). In a
thread that CPU shares one interpreter lock with everything else the command does meanwhile:
importing the planner, reading the state, opening the client, following the live listings. A
forked child does it on another core. It is a copy of this process (the same files, environment
and code), so it finds what ``load_manifests`` here would find. It sends the Stack as soon as it
has one (``load_manifests(on_stack=...)``, for the early reads of ``service.prefetch``), then
the LoadResult and the secret values it learned (a ``credential.fromEnv`` value), pickled over a
pipe; this process registers those secrets before anything is printed.

Whenever the child does not deliver a result (invalid manifests, a bug, a child killed or
unable to start), the manifests are loaded again here, in a thread, and that load decides: the
command reports exactly the errors it always did, with its own exception objects, which do not
survive a pickle whole. Where fork is unsafe or missing (not Linux, or other threads already
running, whose locks the child would inherit in whatever state they were), the load runs in a
thread from the start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any

from aimodels.manifest.result import LoadResult
from aimodels.model.desired import Stack
from aimodels.transport.redact import register_secret, registered_secrets

#: How long a thread load waits, once it has handed over the Stack, for the early listings to
#: start: those few steps would otherwise wait for the interpreter lock behind the YAML work.
_START_WAIT_SECONDS = 5.0

# A frame on the pipe: one tag byte, the payload's length, the payload (a pickle).
_HEADER = struct.Struct("!cQ")
_STACK, _RESULT, _FAILED = b"S", b"R", b"F"

#: The signals that stop a command (Ctrl-C, a CI runner's cancel).
_STOPPING = {signal.SIGINT, signal.SIGTERM}


class ManifestLoad:
    """One load of the manifests under ``paths``, started at once; ``stack()`` and
    ``result()`` await it from the event loop, ``close()`` ends it (or use it as ``with``:
    whatever interrupts the command, the child is stopped and waited for)."""

    def __init__(self, paths: Sequence[str], *, env: Mapping[str, str], strict_env: bool) -> None:
        self._paths = tuple(paths)
        self._env = env
        self._strict_env = strict_env
        self._stack: concurrent.futures.Future[Stack | None] = concurrent.futures.Future()
        self._result: concurrent.futures.Future[LoadResult] = concurrent.futures.Future()
        self._released = threading.Event()
        self._closed = threading.Event()
        self._child: int | None = None
        self._reaping = threading.Lock()
        self._reaped = False

    @classmethod
    def start(cls, paths: Sequence[str], *, env: Mapping[str, str],
              strict_env: bool) -> ManifestLoad:
        """Start loading: in a child process when fork is safe here, else in a thread."""
        load = cls(paths, env=env, strict_env=strict_env)
        try:
            if not (_fork_is_safe() and load._fork()):
                load._in_thread(lambda: load._load_here(hand_over=True))
        except BaseException:  # a Ctrl-C held back over the fork lands here: stop the child
            load.close()
            raise
        return load

    def __enter__(self) -> ManifestLoad:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def in_child(self) -> bool:
        """Whether a child process was started for this load (else a thread loads)."""
        return self._child is not None

    async def stack(self) -> Stack | None:
        """The first Stack valid on its own, or None when the load ended without one."""
        return await asyncio.wrap_future(self._stack)

    def finished(self) -> bool:
        """Whether the result (or the error) is already known."""
        return self._result.done()

    def release(self) -> None:
        """Let a thread load go on after handing over the Stack (the early reads started)."""
        self._released.set()

    async def result(self) -> LoadResult:
        """The loaded manifests; raises what ``load_manifests`` raises."""
        return await asyncio.wrap_future(self._result)

    def close(self) -> None:
        """Stop a child still running (the command ended first: an error, Ctrl-C), and wait
        for it: a child left unwaited stays a zombie where the container's init reaps none."""
        self._closed.set()
        self._released.set()
        if self._child is not None and not self._result.done():
            with contextlib.suppress(OSError):
                os.kill(self._child, signal.SIGKILL)
        self._reap()

    # --- the two ways --------------------------------------------------------------------------

    def _fork(self) -> bool:
        """Fork the child that loads; False (and nothing started) when fork fails.

        Ctrl-C and SIGTERM are held back across the fork: a child interrupted before it runs
        ``_child_main`` would go on in the parent's code. The child then dies of them at once,
        silently (their default action), and the parent handles its own as ever.
        """
        read_end, write_end = os.pipe()
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(read_end)
            os.close(write_end)
            return False
        if pid == 0:  # the child: never returns
            _child_main(read_end, write_end, held, self._paths, self._env, self._strict_env)
        self._child = pid
        os.close(write_end)
        self._in_thread(lambda: self._receive(os.fdopen(read_end, "rb")))
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # last: a signal held back lands now
        return True

    def _receive(self, pipe: IO[bytes]) -> None:
        """Take the child's frames until its result; load here if none comes."""
        try:
            with pipe:
                while (frame := _read_frame(pipe)) is not None:
                    tag, payload = frame
                    if tag == _STACK:
                        self._offer_stack(pickle.loads(payload))
                    elif tag == _RESULT:
                        result, secrets = pickle.loads(payload)
                        # The manifests live as long as the command: the collector need not
                        # walk them again on every later collection.
                        gc.freeze()
                        for value in secrets:
                            register_secret(value)
                        self._finish(result, None)
                        return
                    else:
                        break
        except Exception:  # noqa: BLE001 - any failure of the child's way: the load here decides
            pass
        finally:
            self._reap()
        if not (self._closed.is_set() or self._result.done()):
            self._load_here()

    def _reap(self) -> None:
        with self._reaping:
            if self._child is not None and not self._reaped:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self._child, 0)
                self._reaped = True

    def _load_here(self, hand_over: bool = False) -> None:
        """``load_manifests`` in this process (a worker thread)."""
        from aimodels.manifest.load import load_manifests

        def on_stack(stack: Stack) -> None:
            self._offer_stack(stack)
            self._released.wait(_START_WAIT_SECONDS)

        try:
            result = load_manifests(self._paths, env=self._env, strict_env=self._strict_env,
                                    on_stack=on_stack if hand_over else None)
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            self._finish(None, exc)
            return
        self._finish(result, None)

    def _offer_stack(self, stack: Stack | None) -> None:
        # A future the command cancelled (Ctrl-C) has no one waiting: nothing to tell.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if not self._stack.done():
                self._stack.set_result(stack)

    def _finish(self, result: LoadResult | None, error: BaseException | None) -> None:
        self._offer_stack(None)
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if error is not None:
                self._result.set_exception(error)
            else:
                assert result is not None
                self._result.set_result(result)

    @staticmethod
    def _in_thread(work: Any) -> None:
        # A daemon thread: a command that ends first (Ctrl-C, an error) does not wait for it.
        threading.Thread(target=work, name="aimodels-manifests", daemon=True).start()


def _fork_is_safe() -> bool:
    """Fork only on Linux and while this process runs a single thread."""
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


def _child_main(read_end: int, write_end: int, held: set[int | signal.Signals],
                paths: Sequence[str], env: Mapping[str, str], strict_env: bool) -> None:
    """The child: load, send the Stack, the result and the secrets learned, and exit without
    running any of the parent's exit handlers or flushing its buffers."""
    try:
        # A short life that ends in os._exit: the cyclic collector would only walk the growing
        # heap of loaded manifests over and over (a third of the load at 10,000 of them).
        gc.disable()
        for stopping in _STOPPING:
            signal.signal(stopping, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(read_end)
        with os.fdopen(write_end, "wb") as pipe:
            try:
                from aimodels.manifest.load import load_manifests

                def on_stack(stack: Stack) -> None:
                    _write_frame(pipe, _STACK, pickle.dumps(stack, pickle.HIGHEST_PROTOCOL))

                result = load_manifests(paths, env=env, strict_env=strict_env,
                                        on_stack=on_stack)
                payload = pickle.dumps((result, registered_secrets()), pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - the parent loads again and reports it
                _write_frame(pipe, _FAILED, b"")
            else:
                _write_frame(pipe, _RESULT, payload)
    finally:
        os._exit(0)


def _write_frame(pipe: IO[bytes], tag: bytes, payload: bytes) -> None:
    pipe.write(_HEADER.pack(tag, len(payload)))
    pipe.write(payload)
    pipe.flush()


def _read_frame(pipe: IO[bytes]) -> tuple[bytes, bytes] | None:
    """The next frame, or None at the end of the pipe (or of a frame cut short)."""
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    tag, size = _HEADER.unpack(header)
    payload = pipe.read(size)
    return (tag, payload) if len(payload) == size else None
