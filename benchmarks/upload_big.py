"""Benchmark: the quickstart applied with real-sized weights, on the embedded emulator or against
``aimodels emulator serve --data``.

Run from the repository root:

    .venv/bin/python benchmarks/upload_big.py [--size-gib 5] [--serve]

What it does:

1. Copies ``examples/quickstart`` to a temporary folder and replaces its CustomModel's weights
   with a sparse safetensors file of ``--size-gib`` GiB (``make_weights.py --size``: it reads as
   zeros at memory speed, so the disk the emulator writes to is what is measured).
2. Runs ``aimodels apply --yes`` over it in a child process, as a user runs it: by default the
   Stack's ``target: local``, so the embedded emulator runs inside that process and its peak
   memory counts there; with ``--serve``, ``--endpoint`` at an ``aimodels emulator serve --data``
   process, whose peak is reported apart.
3. Prints, as markdown for docs/performance.md: the apply's wall time, the upload's own time and
   throughput (from apply's "uploaded ... in" line), the peak resident set (``VmHWM``) of the
   client and of the emulator process, the bytes the emulator stored in files and in SQLite, and
   ``/proc/loadavg`` before and after.
4. Removes everything it wrote (the weights and the emulator's data: twice the size on disk).

Not a test: nothing here asserts a timing; it fails only when the apply fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart"
MIB = 1024 * 1024

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


def peak_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024


def stored_bytes(folder: Path) -> tuple[int, int]:
    """(bytes in content files, bytes of the SQLite database) under an emulator data folder."""
    files = sum(f.stat().st_size for f in (folder / "blobs").rglob("*") if f.is_file())
    database = sum(f.stat().st_size for f in folder.glob("emulator.sqlite3*"))
    return files, database


@contextmanager
def serving(data: Path) -> Iterator[tuple[str, int]]:
    """``aimodels emulator serve --data DATA`` on a free port: its URL and pid."""
    process = subprocess.Popen([sys.executable, "-m", "aimodels", "emulator", "serve",
                                "--port", "0", "--data", str(data)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"http://\S+", process.stdout.readline())
        assert match, "the emulator did not announce its URL"
        yield match.group(0), process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(size: int, serve: bool, work: Path) -> dict[str, str]:
    stack = work / "quickstart"
    shutil.copytree(QUICKSTART, stack)
    weights = stack / "weights" / "tiny-llama.safetensors"
    subprocess.run([sys.executable, str(QUICKSTART / "make_weights.py"), "--out", str(weights),
                    "--size", str(size)], check=True, capture_output=True)
    peak_file = work / "client-peak"
    argv = [sys.executable, "-c", CLIENT, str(peak_file)]
    data = work / "served" if serve else stack / ".aimodels" / "emulator"
    figures: dict[str, str] = {}
    with serving(data) if serve else nullcontext() as served:
        if served is not None:
            argv += ["--endpoint", served[0]]
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        started = time.monotonic()
        applied = subprocess.run([*argv, "apply", "--yes", "-f", str(stack)], cwd=ROOT,
                                 capture_output=True, text=True)
        took = time.monotonic() - started
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        if served is not None:
            figures["emulator peak RSS"] = f"{peak_of(served[1]) / MIB:.0f} MiB"
    if applied.returncode != 0:
        raise SystemExit(f"apply failed ({applied.returncode}):\n{applied.stdout}"
                         f"{applied.stderr}")
    uploaded = re.search(r"uploaded (\S+ \S+) in ([^,]+), (\S+ \S+)", applied.stdout)
    files, database = stored_bytes(data)
    figures = {
        "apply (whole command)": f"{took:.1f} s",
        "upload (apply's own figure)": f"{uploaded.group(2)} at {uploaded.group(3)}"
        if uploaded else "?",
        "end-to-end throughput": f"{size / took / 1e6:.0f} MB/s",
        "client peak RSS": f"{int(peak_file.read_text()) * 1024 / MIB:.0f} MiB"
        + (" (emulator inside)" if not serve else ""),
        **figures,
        "stored in files / in SQLite": f"{files / MIB:.0f} MiB / {database / MIB:.1f} MiB",
        "load average before / after": f"{' '.join(load_before)} / {' '.join(load_after)}",
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=float, default=5.0)
    parser.add_argument("--serve", action="store_true",
                        help="apply against `aimodels emulator serve --data` in another process")
    args = parser.parse_args()
    size = int(args.size_gib * 1024 * MIB)
    with tempfile.TemporaryDirectory(prefix="aimodels-upload-big-") as work:
        figures = run(size, args.serve, Path(work))
    target = "`emulator serve --data`" if args.serve else "embedded (`target: local`)"
    print(f"\n{args.size_gib:g} GiB safetensors, quickstart, {target}; "
          f"{os.cpu_count()} vCPUs, {platform.machine()}, Python {platform.python_version()}\n")
    print("| measure | value |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
