"""Benchmark: a CustomModel upload by aimodels against a plain azure-storage-blob upload.

Run from the repository root (Azurite comes from ``npm install``, as ``scripts/test`` does):

    .venv/bin/python benchmarks/upload_throughput.py [--size-gib 2] [--concurrency 8] [--repeat 2]

What it does, in one run:

1. Writes a random file of ``--size-gib`` GiB. Each measurement starts Azurite's blob service
   in memory (``--skipApiVersionCheck --loose``: strict Azurite refuses ``x-ms-content-crc64``,
   loose Azurite takes it without checking it; Azurite computes every block's MD5 whatever is
   sent) and the emulator's registry in this process, handing out SAS URIs for Azurite
   (``external_blob``).
2. Times, interleaved ``--repeat`` times (the order alternating), each in a fresh child
   process against a fresh Azurite (it slows down as its memory store fills), the time of the
   upload itself, the CPU of the child and of Azurite, and the child's peak resident set
   (``VmHWM``):
   - **plain**: ``BlobClient.upload_blob(file, max_concurrency=N)`` through the upload SAS, with
     8 MiB blocks (azure-storage-blob's fastest setting here, azure-contracts.md §4.3): no
     hashing, no MD5, no resume;
   - **aimodels**: ``apply.upload.upload_weights`` as it runs (initialize, stage 8 MiB blocks
     with their CRC64 and deterministic ids, sha256 of the whole file in the same pass, commit);
   - **aimodels with the per-block MD5** (``UploadSettings(block_check="md5")``, what it sent
     before, and what it sends to Azurite);
   - **aimodels without a per-block check** (``block_check="none"``), to show what a check
     costs the client.
3. Kills an aimodels upload (SIGKILL) once 40% of it is reported sent, then resumes it in a new
   child and prints what the service held (blocks skipped) and what was sent.
4. Times re-planning over the unchanged file: ``resolve_weights`` (what ``plan`` runs for
   CustomModels) with a cold digest cache, then with the cache the first pass left.
5. Prints the figures as markdown for docs/performance.md.

Not a test: nothing here asserts a timing; it fails only if an upload fails or the resumed
upload sends a block the service already held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MIB = 1024 * 1024
BLOCK = 8 * MIB


# --- children: one upload each, reporting seconds and peak memory --------------------------


def peak_rss() -> int:
    """This process's resident-set high-water mark in bytes (``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def child_plain(blob_url: str, source: str, concurrency: int) -> dict[str, Any]:
    from azure.storage.blob import BlobClient

    blob = BlobClient.from_blob_url(blob_url, max_block_size=BLOCK, max_single_put_size=BLOCK)
    started = time.perf_counter()
    with open(source, "rb") as handle:
        blob.upload_blob(handle, length=os.path.getsize(source), max_concurrency=concurrency,
                         overwrite=True)
    return {"seconds": time.perf_counter() - started}


def child_aimodels(registry: str, source: str, concurrency: int, data: str,
                   block_check: str = "crc64") -> dict[str, Any]:
    from aimodels.apply.upload import UploadJob, UploadNotes, upload_weights
    from aimodels.apply.upload_blocks import UploadSettings
    from aimodels.transport.client import AzureClient
    from aimodels.transport.config import ClientConfig

    def progress(moment: Any) -> None:
        print(json.dumps({"percent": moment.percent}), flush=True)

    async def run() -> Any:
        config = ClientConfig(target="local", endpoint=registry)
        async with AzureClient.from_config(config) as client:
            job = UploadJob("bench", source, "safetensors", None, Path(data))
            settings = UploadSettings(block_size=BLOCK, concurrency=concurrency,
                                      progress_every=0.2, block_check=block_check)
            return await upload_weights(client, job, settings, UploadNotes(lambda _: None,
                                                                           progress))

    started = time.perf_counter()
    done = asyncio.run(run())
    staged = done.staged
    return {"seconds": time.perf_counter() - started, "sha256": done.sha256,
            "uploadId": done.upload_id, "sent": staged.blocks_sent,
            "skipped": staged.blocks_skipped}


def run_child(*args: str, kill_at: float | None = None) -> dict[str, Any] | None:
    """Run this script as a child; with ``kill_at``, SIGKILL it once it reports that percent."""
    child = subprocess.Popen([sys.executable, __file__, "--child", *args], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE)
    assert child.stdout is not None
    result = None
    for line in child.stdout:
        report = json.loads(line)
        if kill_at is not None and report.get("percent", 0) >= kill_at:
            child.send_signal(signal.SIGKILL)
            break
        if "seconds" in report:
            result = report
    child.communicate(timeout=600)
    if kill_at is None and child.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with {child.returncode}")
    return result


# --- the parent: Azurite, the registry, the measurements -----------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


#: The pid of the Azurite process (node), for its CPU time.
AZURITE_PID: list[int] = []


@contextmanager
def azurite(workdir: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(AZURITE), "--inMemoryPersistence", "--extentMemoryLimit", "20000",
         "--blobHost", "127.0.0.1", "--blobPort", str(port), "--silent", "--disableTelemetry",
         "--skipApiVersionCheck", "--loose"], cwd=workdir, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    AZURITE_PID.append(process.pid)
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("Azurite did not start; run `npm install` first")


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for _ in range(size // (64 * MIB)):
            handle.write(os.urandom(64 * MIB))
        handle.write(os.urandom(size % (64 * MIB)))


def upload_sas(registry: str, size: int) -> str:
    """A blob URL with the registry's upload SAS (what the plain SDK upload gets)."""
    with httpx.Client(base_url=registry, headers={"Authorization": "Bearer b"}) as api:
        grant = api.post("/datastore/upload/initialize", json={
            "model_name": "plain", "file_size": size, "format": "safetensors",
            "file_name": "model.bin"}).json()
    return str(grant["sas_uri"])


def blocks_held(registry: str, upload_id: str) -> int:
    """Uncommitted blocks the data store holds for the bench record's blob."""
    from azure.storage.blob import ContainerClient

    with httpx.Client(base_url=registry, headers={"Authorization": "Bearer b"}) as api:
        sas = api.get("/datastore/list-sas").json()["sas_uri"]
    with ContainerClient.from_container_url(sas) as container:
        blob = container.get_blob_client(f"bench/{upload_id}/model.bin")
        return len(blob.get_block_list("uncommitted")[1])


def replan_times(source: Path, data: Path) -> tuple[float, float]:
    """``resolve_weights`` over the file: cold (no cache), then warm (the cache it left)."""
    from aimodels.errors import SourceLocation
    from aimodels.model.address import ResourceAddress
    from aimodels.model.desired import DesiredResource, DesiredState, Stack
    from aimodels.service.inputs import resolve_weights

    stack = Stack(name="bench", target="local", subscription_id="0" * 8, resource_group="rg",
                  location="eastus", source=SourceLocation("stack.yaml"), base_dir=data.parent)
    address = ResourceAddress("CustomModel", "bench")
    resource = DesiredResource(address, {"path": str(source), "format": "safetensors"},
                               SourceLocation("m.yaml"), data.parent)
    desired = DesiredState(stack, {address: resource})
    (data / "weights-cache.json").unlink(missing_ok=True)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        resolve_weights(desired)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = int(args.size_gib * 1024 * MIB)
    n = str(args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "model.bin"
        write_random(source, size)
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in KINDS}
        for attempt in range(args.repeat):
            order = KINDS if attempt % 2 == 0 else tuple(reversed(KINDS))
            for kind in order:
                rows[kind].append(_measure(kind, work, source, size, n, attempt))
                print(f"{kind}: {rows[kind][-1]}", file=sys.stderr, flush=True)
        with _store(work) as registry:
            resume = _resume(registry, source, n, work / "killed")
        cold, warm = replan_times(source, work / "replan")
    _report(args, size, rows, resume, cold, warm)


#: What is timed: the plain SDK, aimodels as it runs (CRC64 per block), with the MD5 per block
#: instead, and with no per-block check (to show what each check costs the client).
KINDS = ("plain", "aimodels", "aimodels-md5", "aimodels-no-check")
#: The per-block check of each aimodels kind.
CHECKS = {"aimodels": "crc64", "aimodels-md5": "md5", "aimodels-no-check": "none"}


@contextmanager
def _store(work: Path) -> Iterator[str]:
    """A fresh Azurite and a registry over it (Azurite slows down as its memory store fills,
    so each measured upload gets its own)."""
    from aimodels.emulator.config import EmulatorConfig
    from aimodels.emulator.server import start_in_thread

    folder = Path(tempfile.mkdtemp(dir=work))
    with azurite(folder) as account:
        registry = start_in_thread(EmulatorConfig(external_blob=(account, ACCOUNT, KEY)))
        try:
            yield registry.url
        finally:
            registry.stop()


def _measure(kind: str, work: Path, source: Path, size: int, n: str,
             attempt: int) -> dict[str, Any]:
    with _store(work) as registry:
        if kind == "plain":
            sas = upload_sas(registry, size)
            return _timed(lambda: run_child("plain", sas, str(source), n), size)
        data = str(work / f"{kind}-{attempt}")
        return _timed(lambda: run_child(kind, registry, str(source), n, data), size)


def _timed(run: Any, size: int) -> dict[str, Any]:
    """Run ``run()`` (a child upload) and add its throughput, Azurite's CPU time and the
    1-minute load average before and after (the machine is shared)."""
    before, load = cpu_seconds(_node_pid()), os.getloadavg()[0]
    report = run()
    assert report is not None
    return {**report, "mbps": size / report["seconds"] / 1e6,
            "azurite": cpu_seconds(_node_pid()) - before,
            "load": f"{load:.1f}->{os.getloadavg()[0]:.1f}"}


def _node_pid() -> int:
    """Azurite's node process: the launcher script's pid, or its only child."""
    pid = AZURITE_PID[-1]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else pid


def _resume(registry: str, source: Path, n: str, data: Path) -> dict[str, Any]:
    run_child("aimodels", registry, str(source), n, str(data), kill_at=40.0)
    record = json.loads((data / "uploads" / "bench.json").read_text())
    held = _settled_blocks(registry, record["upload_id"])
    resumed = run_child("aimodels", registry, str(source), n, str(data))
    assert resumed is not None
    if resumed["skipped"] != held:
        raise SystemExit(f"resumed upload skipped {resumed['skipped']} blocks, "
                         f"the service held {held}")
    return {**resumed, "held": held}


def _settled_blocks(registry: str, upload_id: str) -> int:
    """The blocks the service holds once it has finished the requests that were on the wire
    when the child was killed (Azurite may still be storing one): the same count twice."""
    held = blocks_held(registry, upload_id)
    while True:
        time.sleep(1.0)
        again = blocks_held(registry, upload_id)
        if again == held:
            return held
        held = again


def _report(args: argparse.Namespace, size: int, rows: dict[str, list[dict[str, Any]]],
            resume: dict[str, Any], cold: float, warm: float) -> None:
    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[kind])

    names = {"plain": "plain `upload_blob(max_concurrency=N)`",
             "aimodels": "aimodels (sha256 + CRC64 per block, resumable)",
             "aimodels-md5": "aimodels with MD5 per block instead",
             "aimodels-no-check": "aimodels without a per-block check"}
    blocks = -(-size // BLOCK)
    print(f"## uploads: {args.size_gib:g} GiB to Azurite (in memory, loopback), "
          f"concurrency {args.concurrency}, 8 MiB blocks, median of {args.repeat}")
    print(f"\n{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print("| upload | time | throughput | client CPU | Azurite CPU | peak RSS of the client |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        print(f"| {names[kind]} | {median(kind, 'seconds'):.1f} s | "
              f"{median(kind, 'mbps'):.0f} MB/s | {median(kind, 'cpu'):.1f} s | "
              f"{median(kind, 'azurite'):.1f} s | {median(kind, 'peak') / MIB:.0f} MiB |")
    gib = size / (1024 * MIB)
    for kind in KINDS[1:]:
        ratio = median(kind, "mbps") / median("plain", "mbps")
        # each round's runs ran minutes apart at most: their ratio cancels most of the load
        paired = statistics.median(a["mbps"] / p["mbps"]
                                   for a, p in zip(rows[kind], rows["plain"], strict=True))
        print(f"\n{names[kind]} / plain throughput: **{ratio:.2f}x** (median of the rounds' "
              f"own ratios {paired:.2f}x); client CPU {median(kind, 'cpu') / gib:.2f} s/GiB "
              f"against plain's {median('plain', 'cpu') / gib:.2f}")
    print("\nEvery run (MB/s, load average before->after): " + "; ".join(
        f"{kind} " + ", ".join(f"{r['mbps']:.0f} ({r['load']})" for r in rows[kind])
        for kind in KINDS))
    print(f"\nResume after SIGKILL at 40%: the service held {resume['held']} of {blocks} blocks; "
          f"the next run skipped {resume['skipped']} and sent {resume['sent']} "
          f"({resume['seconds']:.1f} s, hashing the skipped part too).")
    print(f"\nRe-plan over the unchanged {args.size_gib:g} GiB file (`resolve_weights`): "
          f"{cold * 1000:.0f} ms cold (hashing), {warm * 1000:.1f} ms with the digest cache.")
    print(f"\nCommand: `.venv/bin/python benchmarks/upload_throughput.py --size-gib "
          f"{args.size_gib:g} --concurrency {args.concurrency} --repeat {args.repeat}`")


def child_main(argv: list[str]) -> None:
    kind, rest = argv[0], argv[1:]
    if kind == "plain":
        report = child_plain(rest[0], rest[1], int(rest[2]))
    else:
        report = child_aimodels(rest[0], rest[1], int(rest[2]), rest[3],
                                block_check=CHECKS[kind])
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({**report, "peak": peak_rss(), "cpu": usage.ru_utime + usage.ru_stime}),
          flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
