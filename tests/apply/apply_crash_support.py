"""Crash tests' harness: a stack of 16 resources across every kind and several parents, a
standalone emulator process (``aimodels emulator serve --data DIR``, so it outlives a killed
client), the CLI run as subprocesses, a way to kill one at a chosen moment, and what the
emulator and the state hold afterwards (read over HTTP and from the state file)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from aimodels.errors import PreconditionError
from aimodels.state.lock import acquire_lock, force_unlock, read_lock

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-quickstart/providers"
MANAGER = f"{GROUP}/Microsoft.ContainerService/aiManagers/quickstart"
ACCOUNTS = ("quickstart-foundry", "alpha-foundry-we")
NAMESPACES = ("default", "dev", "staging", "prod")
ARM_VERSION = "2026-08-02-preview"
COGNITIVE_VERSION = "2025-09-01"
#: A progress line of apply without a terminal: ``10:02:11 Kind/name: creating``.
PROGRESS = re.compile(r"^\d\d:\d\d:\d\d \w+/[\w.-]+: ")

STACK = """\
apiVersion: aimodels/v1
kind: Stack
metadata: {name: crash}
spec:
  target: local
  subscriptionId: 00000000-0000-0000-0000-000000000000
  resourceGroup: rg-quickstart
  location: eastus
  aiManager: quickstart
  foundryAccount: quickstart-foundry
"""

#: (name, namespace, catalog model, model source) of the ModelDeployments.
DEPLOYMENTS = (("md-0", "default", "microsoft/Phi-4-mini-instruct", "hf-a"),
               ("md-1", "dev", "microsoft/Phi-4-mini-instruct", "hf-b"),
               ("md-2", "staging", "Qwen/Qwen2.5-7B-Instruct", None),
               ("md-3", "prod", "microsoft/Phi-4-mini-instruct", "hf-c"),
               ("md-4", "default", "microsoft/Phi-4-mini-instruct", "hf-a"),
               ("md-5", "dev", "microsoft/Phi-4-mini-instruct", None))
SOURCES = ("hf-a", "hf-b", "hf-c")
#: (name, account) of the FoundryDeployments: three writes in turn on each account.
FOUNDRY = tuple((f"fd-{i}", ACCOUNTS[i // 3]) for i in range(6))
CUSTOM = ("tiny",)


def declared() -> dict[str, list[str]]:
    """Every resource of the stack, by kind, sorted by name."""
    return {"ModelSource": sorted(SOURCES), "CustomModel": sorted(CUSTOM),
            "ModelDeployment": sorted(d[0] for d in DEPLOYMENTS),
            "FoundryDeployment": sorted(f[0] for f in FOUNDRY)}


def write_stack(folder: Path) -> Path:
    """The stack's manifests and weights in ``folder``."""
    folder.mkdir(parents=True)
    (folder / "stack.yaml").write_text(STACK)
    docs = [_doc("ModelSource", name, "  sourceType: HuggingFace\n") for name in SOURCES]
    docs += [_doc("CustomModel", name, f"  path: ./{name}.safetensors\n  format: safetensors\n"
                  '  version: "1.0"\n') for name in CUSTOM]
    for name, namespace, model, source in DEPLOYMENTS:
        spec = (f"  namespace: {namespace}\n  model: {{catalog: {model}}}\n"
                "  vmSize: Standard_NC24ads_A100_v4\n  scale: {replicas: 1}\n")
        docs.append(_doc("ModelDeployment", name,
                         spec + (f"  modelSource: {source}\n" if source else "")))
    docs += [_doc("FoundryDeployment", name, f"  account: {account}\n"
                  '  model: {format: OpenAI, name: gpt-4o, version: "2024-11-20"}\n'
                  "  sku: {name: GlobalStandard, capacity: 10}\n") for name, account in FOUNDRY]
    (folder / "resources.yaml").write_text("---\n".join(docs))
    for name in CUSTOM:
        (folder / f"{name}.safetensors").write_bytes(b"\x10" + b"\x00" * 7 + b"{}" + b"w" * 300)
    return folder


def _doc(kind: str, name: str, spec: str) -> str:
    return f"apiVersion: aimodels/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"


class Served(Protocol):
    """An emulator, in a thread of the tests or in its own process: where it listens."""

    url: str


@dataclass
class EmulatorProcess:
    """A running ``aimodels emulator serve``."""

    url: str
    process: subprocess.Popen[str]


def session(emulator: Served) -> httpx.Client:
    """A plain HTTP session to the emulator (reads made outside aimodels)."""
    return httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}, timeout=30)


@contextmanager
def emulator_process(data: Path, lro_seconds: float = 0.5, latency_ms: int = 0,
                     faults: tuple[float, float, int] | None = None
                     ) -> Iterator[EmulatorProcess]:
    """A standalone emulator keeping its data under ``data``; stopped with SIGTERM.
    ``faults`` is ``(fault rate, throttle rate, seed)`` of its injected 5xx and 429."""
    injected = [] if faults is None else [
        "--fault-rate", str(faults[0]), "--throttle-rate", str(faults[1]),
        "--seed", str(faults[2])]
    process = subprocess.Popen(
        [sys.executable, "-m", "aimodels", "emulator", "serve", "--data", str(data),
         "--lro-seconds", str(lro_seconds), "--latency-ms", str(latency_ms), *injected],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=ROOT)
    assert process.stdout is not None
    first = process.stdout.readline()
    try:
        assert first.startswith("aimodels emulator listening on "), first
        yield EmulatorProcess(first.split()[-1], process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    return {**env, "NO_COLOR": "1", **extra}


@dataclass(frozen=True)
class Run:
    """A finished CLI subprocess."""

    code: int
    out: str
    err: str


def cli(emulator: Served, stack: Path, *args: str, timeout: float = 120) -> Run:
    """``aimodels ARGS -f STACK`` with ``AIMODELS_ENDPOINT`` set, as a subprocess."""
    done = subprocess.run([sys.executable, "-m", "aimodels", *args, "-f", str(stack)],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env=_env(AIMODELS_ENDPOINT=emulator.url), stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class KillPoint:
    """When to SIGKILL: ``delay`` seconds after the ``after_lines``-th progress line (0: after
    the start of the process)."""

    after_lines: int
    delay: float = 0.0

    def __str__(self) -> str:
        return f"{self.delay:g} s after progress line {self.after_lines}"


def start(emulator: Served, stack: Path, *args: str) -> subprocess.Popen[str]:
    """``aimodels ARGS -f STACK`` started, its stdout piped (progress lines)."""
    return subprocess.Popen([sys.executable, "-m", "aimodels", *args, "-f", str(stack)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env=_env(AIMODELS_ENDPOINT=emulator.url),
                            stdin=subprocess.DEVNULL)


def run_killed(emulator: Served, stack: Path, point: KillPoint, *args: str) -> bool:
    """Run the command and SIGKILL it at ``point``; False when it ended before that."""
    with start(emulator, stack, *args) as child:
        reached = threading.Event()
        reader = threading.Thread(target=_count_progress,
                                  args=(child, point.after_lines, reached))
        reader.start()
        while not reached.wait(0.01):
            if child.poll() is not None:
                break
        time.sleep(point.delay)
        killed = child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        reader.join(timeout=30)
    return killed


def _count_progress(child: subprocess.Popen[str], wanted: int, reached: threading.Event) -> None:
    assert child.stdout is not None
    seen = 0
    if wanted == 0:
        reached.set()
    for line in child.stdout:
        seen += bool(PROGRESS.match(line))
        if seen >= wanted:
            reached.set()


def unlock_stale(emulator: Served, stack: Path, *, through_cli: bool = False) -> None:
    """What a user does after a crash: the next apply reports the dead run's lock as stale,
    naming the ``force-unlock`` to run (it never breaks the lock itself), and they run it.
    In-process (the same ``acquire_lock`` and ``force_unlock`` the commands call) unless
    ``through_cli``: each command costs a Python start."""
    folder = stack / ".aimodels"
    held = read_lock(folder)
    if held is None:
        return
    if through_cli:
        refused = cli(emulator, stack, "apply", "--yes")
        assert refused.code == 6, refused
        assert "the lock is stale" in refused.err and f"force-unlock {held.id}" in refused.err
        assert cli(emulator, stack, "force-unlock", held.id).code == 0
        return
    with pytest.raises(PreconditionError) as refused:
        acquire_lock(folder, "aimodels apply")
    assert "the lock is stale" in refused.value.message
    assert f"force-unlock {held.id}" in refused.value.hint
    force_unlock(folder, held.id)


def live_names(emulator: Served) -> dict[str, list[str]]:
    """What the emulator holds, by kind: every name LISTed, duplicates kept, sorted."""
    with session(emulator) as http:
        arm = {"api-version": ARM_VERSION}
        sources = _names(http, f"{MANAGER}/modelSources", arm)
        deployments = sorted(n for ns in NAMESPACES for n in _names(
            http, f"{MANAGER}/namespaces/{ns}/modelDeployments", arm))
        foundry = sorted(n for account in ACCOUNTS for n in _names(
            http, f"{GROUP}/Microsoft.CognitiveServices/accounts/{account}/deployments",
            {"api-version": COGNITIVE_VERSION}))
        custom = _names(http, "/custom-models", {})
    return {"ModelSource": sources, "CustomModel": custom, "ModelDeployment": deployments,
            "FoundryDeployment": foundry}


def _names(http: httpx.Client, url: str, params: dict[str, str]) -> list[str]:
    """The names of every item of a list, page after page (through injected faults)."""
    names: list[str] = []
    next_url: str | None = url
    while next_url:
        response = _get_through_faults(http, next_url, params if next_url == url else None)
        assert response.status_code == 200, response.text
        names += [item["name"] for item in response.json()["value"]]
        next_url = response.json().get("nextLink")
    return sorted(names)


def _get_through_faults(http: httpx.Client, url: str,
                        params: dict[str, str] | None) -> httpx.Response:
    """GET, again after an injected 429 or 5xx (``--fault-rate``, ``--throttle-rate``)."""
    for _ in range(50):
        response = http.get(url, params=params)
        if response.status_code not in (429, 500, 503):
            return response
        time.sleep(0.02)
    return response


def state_addresses(stack: Path) -> list[str]:
    """The addresses in the state file, in file order (duplicates kept)."""
    path = stack / ".aimodels" / "state.json"
    if not path.exists():
        return []
    return [r["address"] for r in json.loads(path.read_text())["resources"]]


def by_address(names: dict[str, list[str]]) -> list[str]:
    return sorted(f"{kind}/{name}" for kind, found in names.items() for name in found)
