"""Support for upload tests: a counting reverse proxy (so tests can see every Put Block the
storage service accepted, whichever process sent it), random weight files, and a Stack folder
with one CustomModel for CLI runs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]

STACK = """\
apiVersion: aimodels/v1
kind: Stack
metadata: {name: uploads}
spec:
  target: local
  subscriptionId: 00000000-0000-0000-0000-000000000000
  resourceGroup: rg-quickstart
  location: eastus
  aiManager: quickstart
  foundryAccount: quickstart-foundry
"""

CUSTOM_MODEL = """\
apiVersion: aimodels/v1
kind: CustomModel
metadata: {{name: {name}}}
spec:
  path: {path}
  format: {format}
  version: "1.0"
  deletePolicy: {policy}
"""


@dataclass
class CountingProxy:
    """An ASGI reverse proxy to ``upstream`` that counts what the storage service accepted:
    ``blocks[(blob path, block id)]`` is how many Put Block calls for it answered 2xx. Every
    request is listed in ``seen`` as (method, path, comp, status)."""

    upstream: str
    blocks: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: list[tuple[str, str, str, int]] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        assert self._client is not None
        query = scope.get("query_string", b"").decode()
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]
                   if k.lower() not in (b"content-length", b"transfer-encoding")]
        answer = await self._client.request(scope["method"], url, headers=headers, content=body)
        self._count(scope["method"], scope["path"], query, answer.status_code)
        head = scope["method"] == "HEAD"  # keeps the length of what a GET would send
        dropped = ("transfer-encoding", "content-encoding", "connection") + \
            (() if head else ("content-length",))
        out = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k not in dropped]
        if not head:
            out.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": out})
        await send({"type": "http.response.body", "body": answer.content})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(timeout=120)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _count(self, method: str, path: str, query: str, status: int) -> None:
        params = parse_qs(query)
        comp = params.get("comp", [""])[0]
        self.seen.append((method, path, comp, status))
        if method == "PUT" and comp == "block" and 200 <= status < 300:
            block = base64.b64decode(params["blockid"][0]).decode()
            self.blocks[(path, block)] += 1

    def sent_twice(self) -> list[tuple[str, str]]:
        return [key for key, count in self.blocks.items() if count > 1]

    def count(self, method: str, comp: str, status: int | None = None) -> int:
        return sum(1 for m, _, c, s in self.seen
                   if m == method and c == comp and (status is None or s == status))


@dataclass
class Served:
    """An ASGI app served on a loopback port from a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(app: Any) -> Served:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    host, port = sock.getsockname()
    return Served(f"http://{host}:{port}", server, thread)


def random_file(path: Path, size: int, head: bytes = b"") -> str:
    """Write ``head`` then random bytes up to ``size`` to ``path``; returns the sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        handle.write(head)
        digest.update(head)
        left = size - len(head)
        while left > 0:
            chunk = os.urandom(min(MIB, left))
            handle.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def safetensors_bytes(payload: bytes = b"\0" * 64) -> bytes:
    header = b'{"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}}'
    return len(header).to_bytes(8, "little") + header + payload


def write_stack(folder: Path, name: str, path: str, fmt: str = "safetensors",
                policy: str = "Delete") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stack.yaml").write_text(STACK)
    (folder / "model.yaml").write_text(CUSTOM_MODEL.format(name=name, path=path, format=fmt,
                                                           policy=policy))
    return folder


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    env.update(extra)
    return env
