"""Something that answers in Azure's place: a captive portal, a proxy that cuts bodies short, a
service with odd field types, a service that quotes secrets back in its errors.

``Impostor`` is a real HTTP server on 127.0.0.1 (stdlib ``http.server``, one thread per
request) that hands each request to ``answer``; ``forward`` passes a request on to the emulator,
so an answer function can change only what it wants. The server stops when the ``with`` block
ends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Request:
    """One request the impostor received."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the impostor sends back."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, value: Any, **headers: str) -> Answer:
        return cls(status, json.dumps(value).encode(),
                   {"content-type": "application/json", **headers})


Answering = Callable[[Request], Answer]


def html_page(request: Request) -> Answer:
    """A captive portal: 200 and a sign-in page, whatever was asked."""
    return Answer(200, b"<html><head><title>Sign in to Guest Wi-Fi</title></head>"
                       b"<body><form>...</form></body></html>",
                  {"content-type": "text/html; charset=utf-8"})


class Forwarder:
    """Sends requests on to ``url`` (the emulator) and returns its answers. The Host header
    goes along, so the URLs the emulator hands out (LROs, endpoints) point at the impostor."""

    def __init__(self, url: str) -> None:
        self.session = httpx.Client(base_url=url, timeout=30)

    def __call__(self, request: Request) -> Answer:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("content-length", "connection")}
        sent = self.session.request(request.method, request.path, headers=headers,
                                    content=request.body)
        kept = {k: v for k, v in sent.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                     "content-encoding")}
        return Answer(sent.status_code, sent.content, kept)

    def close(self) -> None:
        self.session.close()


def _handler(answer: Answering, seen: list[Request]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Request(self.command, self.path, dict(self.headers.items()),
                              self.rfile.read(length) if length else b"")
            seen.append(request)
            reply = answer(request)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a request (another one failed first)

    return Handler


@dataclass
class Impostor:
    """A running impostor: its origin, and every request it received so far."""

    url: str
    requests: list[Request]


@contextmanager
def impostor(answer: Answering) -> Iterator[Impostor]:
    """Serve ``answer`` on 127.0.0.1 (a free port) until the block ends."""
    seen: list[Request] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answer, seen))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="impostor", daemon=True)
    thread.start()
    try:
        yield Impostor(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
