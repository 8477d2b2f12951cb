"""Support for upload tests: a counting reverse proxy (so tests can see every Put Block the
storage service accepted, whichever process sent it), random weight files, and a Stack folder
with one CustomModel for CLI runs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from azure.storage.blob import ContainerClient

from aimodels.apply.upload import Upload, UploadJob, UploadNotes, upload_weights
from aimodels.apply.upload_blocks import UploadSettings
from aimodels.emulator.app import Emulator
from aimodels.emulator.server import RunningEmulator
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig

KIB = 1024
MIB = 1024 * 1024
#: Small blocks so that tests of a few MiB cross many block boundaries.
SMALL = UploadSettings(block_size=256 * KIB, concurrency=4, progress_every=0.0)
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


class MovableClock:
    """Wall-clock time plus an offset the test moves (SAS expiry without waiting)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Store:
    """An emulator and the counting proxy every client goes through (``url``)."""

    emulator: Emulator
    running: RunningEmulator
    proxy: CountingProxy
    url: str
    clock: MovableClock


class Crash(Exception):
    """Stands in for the process dying between two blocks."""


@dataclass
class CountingProxy:
    """An ASGI reverse proxy to ``upstream`` that counts what the storage service accepted:
    ``blocks[(blob path, block id)]`` is how many Put Block calls for it answered 2xx. Every
    request is listed in ``seen`` as (method, path, comp, status)."""

    upstream: str
    blocks: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: list[tuple[str, str, str, int]] = field(default_factory=list)
    pending: int = 0
    _client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        self.pending += 1
        try:
            await self._forward(scope, receive, send)
        finally:
            self.pending -= 1

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until no request is being forwarded (a killed client's last blocks may still
        be on their way to the service)."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.01)

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client died mid-body: a real service would drop it too
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


def apply_in_child(url: str, stack: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = child_env(AIMODELS_UPLOAD_BLOCK_SIZE="256KiB", AIMODELS_UPLOAD_CONCURRENCY="4",
                    **extra)
    return subprocess.Popen([sys.executable, "-m", "aimodels", "--endpoint", url, "apply",
                             "--yes", "-f", str(stack)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(child: subprocess.Popen[bytes], proxy: CountingProxy, blocks: int) -> None:
    """SIGKILL ``child`` once the service has accepted ``blocks`` blocks in all."""
    deadline = time.monotonic() + 60
    while len(proxy.blocks) < blocks:
        assert child.poll() is None, child.communicate()[1].decode()
        assert time.monotonic() < deadline, "the upload did not progress"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    proxy.settle()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from aimodels.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def unlock(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = json.loads((stack / ".aimodels" / "state.lock").read_text())
    assert run_cli(["force-unlock", lock["id"], "-f", str(stack)], capsys)[0] == 0


def upload(url: str, source: Path, sha256: str | None, data: Path,
           settings: UploadSettings = SMALL, notes: list[Any] | None = None,
           model: str = "llama") -> Upload:
    seen = notes if notes is not None else []

    async def run() -> Upload:
        config = ClientConfig(target="local", endpoint=url)
        async with AzureClient.from_config(config) as client:
            job = UploadJob(model, str(source), "safetensors", sha256, data)
            return await upload_weights(client, job, settings, UploadNotes(seen.append,
                                                                           seen.append))
    return asyncio.run(run())


def register(url: str, done: Upload, name: str = "llama") -> dict[str, Any]:
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as api:
        body = {"name": name, "version": "1", "upload_id": done.upload_id,
                "size_bytes": done.size}
        answer = api.post("/custom-models", json={**body, **(
            {"sha256": done.sha256} if done.sha256 else {})})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def stored(url: str, prefix: str) -> dict[str, bytes]:
    """The committed blobs under ``prefix``: name -> content."""
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as api:
        sas = api.get("/datastore/list-sas").json()["sas_uri"]
    with ContainerClient.from_container_url(sas) as container:
        return {b.name[len(prefix):]: container.download_blob(b.name).readall()
                for b in container.list_blobs(name_starts_with=prefix)}


def hook_on_block(action: Any, wanted: str) -> Any:
    """A raw_request_hook calling ``action(request)`` on Put Block of block id ``wanted``."""
    def hook(request: Any) -> None:
        http = request.http_request
        if "comp=block&" in http.url and f"blockid={_b64(wanted)}" in http.url:
            action(request)
    return hook


def _b64(block: str) -> str:
    import base64
    from urllib.parse import quote

    return quote(base64.b64encode(block.encode()).decode())
