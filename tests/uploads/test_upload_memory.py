"""Peak memory of an upload does not grow with the file: about ``concurrency + 1`` blocks plus
a constant. Measured in a child process, for two file sizes, as the kernel's high-water mark
of its resident set (``VmHWM``: unlike ``ru_maxrss``, it does not inherit the parent's peak
across fork and exec)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from upload_support import MIB, ROOT, Store, child_env, random_file

CHILD = """
import asyncio, json, sys
from pathlib import Path
from aimodels.apply.upload import UploadJob, UploadNotes, upload_weights
from aimodels.apply.upload_blocks import UploadSettings
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig

url, source, data = sys.argv[1:4]

def peak() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")

async def main() -> None:
    async with AzureClient.from_config(ClientConfig(target="local", endpoint=url)) as client:
        job = UploadJob("m", source, "safetensors", None, Path(data))
        settings = UploadSettings(block_size=1024 * 1024, concurrency=4)
        await upload_weights(client, job, settings, UploadNotes(lambda _: None,
                                                                lambda _: None))

before = peak()
asyncio.run(main())
print(json.dumps({"before": before, "after": peak()}))
"""


def peak_of_upload(store: Store, source: Path, data: Path) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", CHILD, store.running.url, str(source),
                           str(data)], env=child_env(), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_peak_memory_does_not_grow_with_the_file(store: Store, tmp_path: Path) -> None:
    small, large = tmp_path / "small.bin", tmp_path / "large.bin"
    random_file(small, 24 * MIB)
    random_file(large, 120 * MIB)

    small_peak = peak_of_upload(store, small, tmp_path / "a")
    large_peak = peak_of_upload(store, large, tmp_path / "b")

    grown = large_peak["after"] - large_peak["before"]
    assert abs(large_peak["after"] - small_peak["after"]) < 12 * MIB, (small_peak, large_peak)
    assert grown < 5 * MIB + 20 * MIB, grown  # 4 + 1 blocks of 1 MiB, plus the SDK's own
