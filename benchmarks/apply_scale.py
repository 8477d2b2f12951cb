"""Benchmark: ``aimodels apply`` of N new ModelSources, to see whether apply stays linear.

Run from the repository root:

    .venv/bin/python benchmarks/apply_scale.py [--changes 100 1000 5000] [--parallelism 10]

For each N, on a fresh emulator (``aimodels emulator serve --lro-seconds 0``, a subprocess) and
a fresh state: N ModelSources round robin over four AI managers (``plan_refresh``'s workload
helpers), then ``aimodels apply --yes`` as a subprocess, timed. It reports the wall time per
change, the CPU seconds of aimodels (the apply subprocess) and of the emulator (from
``/proc/PID/stat``) over the apply, and the one-minute load average before and after, as
markdown for docs/performance.md. Linear means the time per change stays flat as N grows.

Not a test: nothing asserts a timing; it fails only when apply fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from plan_refresh import (
    AI_MANAGERS,
    Workload,
    _source,
    _stack,
    aimodels,
    write_fixtures,
    write_manifests,
)


@dataclass(frozen=True, slots=True)
class Run:
    """One apply of ``changes`` creates: wall and CPU seconds, load averages around it."""

    changes: int
    wall: float
    cpu_aimodels: float
    cpu_emulator: float
    load_before: float
    load_after: float


@contextmanager
def serve(data: Path, fixtures: Path) -> Iterator[tuple[str, int]]:
    """The emulator over ``data`` with instant LROs; yields its URL and pid, stops it on exit."""
    command = aimodels("emulator", "serve", "--data", str(data), "--fixtures", str(fixtures),
                       "--lro-seconds", "0")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.split("listening on", 1)[1].strip(), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def apply_once(work: Path, changes: int, parallelism: int) -> Run:
    """Fresh fixtures, emulator, manifests and state; times one ``apply --yes``."""
    stack, fixtures = work / "stack", work / "fixtures.json"
    work.mkdir(parents=True)
    workload = Workload(changes, 0, 0)
    write_fixtures(fixtures, workload)
    write_manifests(stack, [_stack(workload.accounts[0][0]),
                            *(_source(i, AI_MANAGERS[i % len(AI_MANAGERS)])
                              for i in range(changes))])
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPYCACHEPREFIX": str(work / "bytecode")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with serve(work / "emulator", fixtures) as (url, pid):
        env["AIMODELS_ENDPOINT"] = url
        load_before, emulator_before = os.getloadavg()[0], process_cpu(pid)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(aimodels("apply", "--yes", "--parallelism", str(parallelism),
                                       "-f", str(stack)),
                              env=env, text=True, capture_output=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        emulator = process_cpu(pid) - emulator_before
        load_after = os.getloadavg()[0]
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(changes, wall, cpu, emulator, load_before, load_after)


def report(runs: Sequence[Run], parallelism: int) -> str:
    """The runs as a markdown table, with the command that made them."""
    lines = [f"`benchmarks/apply_scale.py --parallelism {parallelism}` "
             f"({os.cpu_count()} cores, Python {sys.version.split()[0]})", "",
             "| creates | wall | per change | CPU aimodels | CPU emulator | load before / after |",
             "|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        lines.append(f"| {run.changes:,} | {run.wall:.1f} s | "
                     f"{run.wall / run.changes * 1000:.1f} ms | {run.cpu_aimodels:.1f} s | "
                     f"{run.cpu_emulator:.1f} s | {run.load_before:.2f} / "
                     f"{run.load_after:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--changes", type=int, nargs="+", default=[100, 1000, 5000],
                        help="how many ModelSources to create, one apply each")
    parser.add_argument("--parallelism", type=int, default=10)
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="aimodels-bench-apply-") as scratch:
        for count in args.changes:
            print(f"applying {count} creates ...", file=sys.stderr)
            runs.append(apply_once(Path(scratch) / f"n{count}", count, args.parallelism))
            print(report(runs[-1:], args.parallelism).splitlines()[-1], file=sys.stderr)
    print(report(runs, args.parallelism))


if __name__ == "__main__":
    main()
