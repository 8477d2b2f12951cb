"""A 1.5 GiB safetensors CustomModel applied in one run, as a user runs it: ``aimodels apply``
in one process against ``aimodels emulator serve --data`` in another. Before the blob store kept
content in files, SQLite refused any blob of 1 GB or more (``string or blob too big``). And one
512 MiB block (Azure takes up to 4000 MiB) streamed to the same kind of emulator, with its MD5
checked, then copied by the emulator (Copy Blob: it reads the source over HTTP as Azure does).

Checked: the apply succeeds first time; the peak resident set (``VmHWM``) of the client stays
under 512 MiB and the emulator's grows by less than 64 MiB over its idle size (both would hold
the file, or a large part of it, if any side buffered it); the content is in files under
``--data``, not in the database; it reads back by ranges.

The file is sparse (``make_weights.py --size``): it costs no disk to write and reads at memory
speed, so the time is the upload's (about 15 s on 2 vCPUs). Marked ``big``: it writes 1.5 GiB
under the temporary directory; it runs in CI with the rest of the suite.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import ContainerClient
from upload_support import MIB, ROOT, child_env, write_stack

SIZE = 1536 * MIB
BLOCK = 512 * MIB
CLIENT_PEAK_LIMIT = 512 * MIB
EMULATOR_GROWTH_LIMIT = 64 * MIB
BEARER = {"Authorization": "Bearer t"}

#: ``aimodels`` as the console script runs it, writing its VmHWM (KiB) to argv[1] on exit.
CLIENT = """
import atexit, sys
from pathlib import Path

def report() -> None:
    status = Path("/proc/self/status").read_text()
    Path(sys.argv[1]).write_text(status.split("VmHWM:")[1].split()[0])

atexit.register(report)
from aimodels.cli.main import main
main(sys.argv[2:])
"""


def status_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) * 1024


@contextmanager
def emulator_serving(data: Path) -> Iterator[tuple[str, int]]:
    """``aimodels emulator serve --data DATA`` on a free port: its URL and pid."""
    process = subprocess.Popen([sys.executable, "-m", "aimodels", "emulator", "serve",
                                "--port", "0", "--data", str(data)], env=child_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert match, process.stderr.read() if process.stderr else ""
        yield match.group(0), process.pid
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        assert "Traceback" not in stderr, stderr


@pytest.mark.big
def test_a_1_5_gib_custom_model_applies_in_one_run_with_flat_memory(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack", "big", "./weights/big.safetensors")
    weights = stack / "weights" / "big.safetensors"
    made = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart" /
                                               "make_weights.py"),
                           "--out", str(weights), "--size", str(SIZE)], capture_output=True)
    assert made.returncode == 0, made.stderr
    data, peak_file = tmp_path / "data", tmp_path / "client-peak"
    try:
        with emulator_serving(data) as (url, pid):
            idle = status_kib(pid, "VmRSS")
            started = time.monotonic()
            applied = subprocess.run([sys.executable, "-c", CLIENT, str(peak_file),
                                      "--endpoint", url, "apply", "--yes", "-f", str(stack)],
                                     env=child_env(), cwd=ROOT, capture_output=True, text=True,
                                     timeout=240)
            took = time.monotonic() - started
            emulator_peak = status_kib(pid, "VmHWM")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            model = httpx.get(f"{url}/custom-models/big", headers=BEARER).json()
            tail = _tail_of(url, model["path"])
        client_peak = int(peak_file.read_text()) * 1024
        on_disk = sum(f.stat().st_size for f in (data / "blobs").rglob("*") if f.is_file())
        database = (data / "emulator.sqlite3").stat().st_size
    finally:
        shutil.rmtree(data, ignore_errors=True)
        weights.unlink(missing_ok=True)

    figures = (f"{took:.1f} s, {SIZE / took / 1e6:.0f} MB/s, client peak "
               f"{client_peak / MIB:.0f} MiB, emulator {idle / MIB:.0f} -> "
               f"{emulator_peak / MIB:.0f} MiB")
    print(figures)
    assert model["size_bytes"] == SIZE and model["file_count"] == 1
    assert tail == b"\0" * 4096
    assert on_disk == SIZE, figures
    assert database < 16 * MIB
    assert client_peak < CLIENT_PEAK_LIMIT, figures
    assert emulator_peak - idle < EMULATOR_GROWTH_LIMIT, figures


def _tail_of(url: str, path: str) -> bytes:
    """The last 4 KiB of the registered blob, read by range through the listing SAS."""
    sas = httpx.get(f"{url}/datastore/list-sas", headers=BEARER).json()["sas_uri"]
    container, _, name = path.partition("/")
    with ContainerClient.from_container_url(sas) as client:
        assert client.container_name == container
        return client.download_blob(name, offset=SIZE - 4096, length=4096).readall()


@pytest.mark.big
def test_a_512_mib_block_streams_to_disk_and_copies_with_flat_memory(tmp_path: Path) -> None:
    chunk = os.urandom(MIB)
    md5 = hashlib.md5()
    for _ in range(BLOCK // MIB):
        md5.update(chunk)
    digest = base64.b64encode(md5.digest()).decode()

    def body() -> Iterator[bytes]:
        for _ in range(BLOCK // MIB):
            yield chunk

    with emulator_serving(tmp_path / "data") as (url, pid):
        idle = status_kib(pid, "VmRSS")
        sas = httpx.post(f"{url}/datastore/upload/initialize", headers=BEARER, json={
            "model_name": "one", "file_size": BLOCK, "format": "gguf",
            "file_name": "m.gguf"}).json()["sas_uri"]
        staged = httpx.put(f"{sas}&comp=block&blockid=MDA%3D", content=body(), timeout=120,
                           headers={"Content-Length": str(BLOCK), "Content-MD5": digest})
        committed = httpx.put(f"{sas}&comp=blocklist", content=b"<?xml version='1.0'?>"
                              b"<BlockList><Latest>MDA=</Latest></BlockList>")
        copy_url = sas.replace("/m.gguf?", "/copy.gguf?")
        copied = httpx.put(copy_url, headers={"x-ms-copy-source": sas}, timeout=120)
        tail = httpx.get(copy_url, headers={"x-ms-range": f"bytes={BLOCK - 100}-"})
        peak = status_kib(pid, "VmHWM")

    assert staged.status_code == 201, staged.text
    assert staged.headers["content-md5"] == digest
    assert committed.status_code == 201, committed.text
    assert copied.status_code == 202, copied.text  # read back by the emulator, in chunks
    assert tail.status_code == 206 and tail.content == chunk[-100:]
    assert peak - idle < EMULATOR_GROWTH_LIMIT, (idle, peak)
