"""Serving the emulator over real HTTP: standalone (``emulator serve``) or in a background thread
(the embedded ``target: local`` and end-to-end tests).

The socket is bound before uvicorn starts, so ``--port 0`` can report the port it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from aimodels.emulator.app import Emulator, create_app
from aimodels.emulator.config import EmulatorConfig
from aimodels.errors import AimodelsError, UsageError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free one).

    Raises AimodelsError (exit 1) when the port is taken or not ours to use, and UsageError
    (exit 64) when ``host`` is not an address of this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: accepted sockets inherit it, and asyncio only sets TCP_NODELAY on
    # sockets whose proto is TCP (without it every keep-alive response waits ~40 ms for an ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise _bind_error(host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def _bind_error(host: str, port: int, exc: OSError) -> AimodelsError:
    if exc.errno == errno.EADDRINUSE:
        return AimodelsError(f"cannot listen on {host}:{port}: port {port} is in use",
                             hint="Stop what holds it, pick another --port, or pass --port 0 "
                             "for a free one.")
    if exc.errno == errno.EACCES:
        return AimodelsError(f"cannot listen on {host}:{port}: permission denied",
                             hint="Ports below 1024 need privileges; pick a higher --port.")
    return UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                      hint="--host must be an address of this machine, e.g. 127.0.0.1.")


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (callers decide how the server stops), and
    woken at once by ``request_exit`` instead of noticing ``should_exit`` on its next 0.1 s
    tick: tests start and stop hundreds of emulators."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        """Stop serving (from any thread, or a signal handler); a second call forces it."""
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed already
                self._loop.call_soon_threadsafe(self._wake.set)


def _server(emu: Emulator) -> _Server:
    config = uvicorn.Config(create_app(emulator=emu), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=2)
    return _Server(config)


def serve_forever(config: EmulatorConfig, host: str, port: int,
                  announce: Callable[[str], None]) -> None:
    """Run until SIGINT/SIGTERM, then stop cleanly and return; ``announce`` gets the URL.

    Fixtures and the store are opened before the port is bound, so a bad ``--fixtures`` or
    ``--data`` is reported without the port ever answering.
    """
    emu = Emulator(config)
    try:
        sock = bind(host, port)
        server = _server(emu)
        # Our own handlers rather than uvicorn's: uvicorn re-raises the signal after shutdown,
        # which would turn a clean stop into a non-zero exit.
        previous = {sig: signal.signal(sig, lambda signum, frame: server.request_exit())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        announce(url_of(sock))
        try:
            asyncio.run(server.serve(sockets=[sock]))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        emu.store.close()


@dataclass
class RunningEmulator:
    """An emulator serving from a daemon thread; ``stop()`` shuts it down and closes its store."""

    url: str
    emulator: Emulator
    _server: _Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.request_exit()
        self._thread.join(timeout=10)
        self.emulator.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                    port: int = 0, emulator: Emulator | None = None) -> RunningEmulator:
    """Start an emulator on a loopback port in a daemon thread and wait until it answers."""
    emu = emulator or Emulator(config or EmulatorConfig())
    sock = bind(host, port)
    server = _server(emu)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              name="aimodels-emulator", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    else:
        raise RuntimeError("the embedded emulator did not start within 5 s")
    return RunningEmulator(url_of(sock), emu, server, thread)
