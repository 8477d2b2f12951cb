"""Serving the emulator over real HTTP: standalone (``emulator serve``) or in a background thread
(the embedded ``target: local`` and end-to-end tests).

The socket is bound before uvicorn starts, so ``--port 0`` can report the port it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from aimodels.emulator.app import Emulator, create_app
from aimodels.emulator.config import EmulatorConfig


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: accepted sockets inherit it, and asyncio only sets TCP_NODELAY on
    # sockets whose proto is TCP (without it every keep-alive response waits ~40 ms for an ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: callers decide how the server stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(emu: Emulator) -> uvicorn.Server:
    config = uvicorn.Config(create_app(emulator=emu), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=2)
    return _Server(config)


def serve_forever(config: EmulatorConfig, host: str, port: int,
                  announce: Callable[[str], None]) -> None:
    """Run until SIGINT/SIGTERM, then stop cleanly and return; ``announce`` gets the URL."""
    sock = bind(host, port)
    emu = Emulator(config)
    server = _server(emu)

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # Our own handlers rather than uvicorn's: uvicorn re-raises the signal after shutdown, which
    # would turn a clean stop into a non-zero exit.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    announce(url_of(sock))
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emu.store.close()


@dataclass
class RunningEmulator:
    """An emulator serving from a daemon thread; ``stop()`` shuts it down and closes its store."""

    url: str
    emulator: Emulator
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
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
