"""Benchmark: how the in-process phases of plan and apply grow with the number of resources.

Run from the repository root:

    .venv/bin/python benchmarks/plan_scale.py [--resources 100 1000 10000] [--repeat 3]

For each N, with no network and no emulator: ``plan_refresh``'s workload of N resources (20%
ModelSources, 40% ModelDeployments, 40% FoundryDeployments) written as manifest files, then,
each phase timed in CPU seconds (best of ``--repeat``):

- ``manifests``: ``load_manifests`` (YAML, schema and semantic checks, the set's checks);
- ``plan creates``: ``make_plan`` against nothing live and an empty state (N creates);
- ``graph``: apply's step graph of that plan and its topological order;
- ``text`` / ``markdown`` / ``json``: the three renderings of the N creates;
- ``state puts``: the state entry of each create put into apply's ``StateStore`` one by one,
  with its first write and the last (its group commits: ``interval`` an hour here);
- ``state write`` / ``state read``: the local backend's atomic write and checked read;
- ``replan``: the state's resources as the planner's inputs, and ``make_plan`` against live
  bodies built from the planned ones (mostly no-ops: a plan after an apply).

Then the peak memory (tracemalloc) of one pass over all phases, and the ratio
time(10k)/time(1k) per phase when both sizes ran: linear growth means about 10.

Not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plan_refresh import Workload, documents, write_manifests

from aimodels.apply.entries import state_entry
from aimodels.apply.state_store import StateStore
from aimodels.manifest import load_manifests
from aimodels.model.desired import DesiredState
from aimodels.plan.graph import apply_graph
from aimodels.plan.planner import make_plan
from aimodels.plan.provider import ProviderContext
from aimodels.plan.values import LiveObject, LiveState, Plan
from aimodels.providers.registry import default_registry
from aimodels.render.plan import render_plan
from aimodels.service.planning import prior_resources
from aimodels.state.local import read_state, write_state
from aimodels.state.values import State

PHASES = ("manifests", "plan creates", "graph", "text", "markdown", "json", "state puts",
          "state write", "state read", "replan")


def run_phases(folder: Path, timer: Callable[[str, Callable[[], Any]], Any]) -> int:
    """Every phase once over the manifests in ``folder``, each through ``timer(name, work)``;
    returns how many changes the create plan holds."""
    registry = default_registry()
    desired: DesiredState = timer("manifests", lambda: load_manifests(
        [str(folder)], env={}, strict_env=True).desired)
    plan: Plan = timer("plan creates", lambda: make_plan(desired, LiveState(), {},
                                                         registry=registry))
    timer("graph", lambda: apply_graph(plan.changes).topological_order())
    for fmt in ("text", "markdown", "json"):
        timer(fmt, lambda fmt=fmt: render_plan(plan, fmt, stack=desired.stack.name))

    async def puts() -> State:
        # apply's StateStore: the first change written at once, the others at the end
        store = StateStore(folder.parent / "apply" / "state.json", State.new(), interval=3600)
        for change in plan.changes:
            await store.put(state_entry(
                change, f'"{change.address.name}"', resource=desired.resources[change.address],
                prior=store.get(str(change.address)), digests={}))
        await store.flush()
        return store.state

    state: State = timer("state puts", lambda: asyncio.run(puts()))
    shutil.rmtree(folder.parent / "apply")
    path = folder.parent / f"state-{len(plan.changes)}.json"
    timer("state write", lambda: write_state(path, state, replacing=State.new()))
    path.unlink()  # each repetition writes a new file, as the first apply does
    write_state(path, state, replacing=State.new())
    timer("state read", lambda: read_state(path))
    live = live_after_apply(plan, desired)
    timer("replan", lambda: make_plan(desired, live, prior_resources(state), registry=registry))
    path.unlink()
    return len(plan.changes)


def live_after_apply(plan: Plan, desired: DesiredState) -> LiveState:
    """What Azure holds after the creates: each planned body with its id and an ETag."""
    registry = default_registry()
    ctx = ProviderContext(desired.stack, desired=desired.resources)
    objects = {}
    for change in plan.changes:
        provider = registry.for_address(change.address)
        body = provider.to_body(change.address, change.after or {}, ctx)
        body.setdefault("properties", {})["provisioningState"] = "Succeeded"
        etag = f'"{change.address.name}"'
        body = {**body, "id": change.resource_id, "name": change.address.name, "etag": etag,
                "eTag": etag}
        objects[change.address] = LiveObject(change.address, change.resource_id, body, etag)
    return LiveState(objects)


def measure(folder: Path, repeat: int) -> tuple[dict[str, float], int, float]:
    """Best CPU seconds per phase over ``repeat`` passes, the number of changes, and the peak
    traced memory (MB) of one more pass."""
    best: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        started = time.process_time()
        result = work()
        best[name] = min(best.get(name, float("inf")), time.process_time() - started)
        return result

    changes = 0
    for _ in range(repeat):
        changes = run_phases(folder, timed)
    tracemalloc.start()
    run_phases(folder, lambda _name, work: work())
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, changes, peak


def report(sizes: Sequence[int], results: dict[int, tuple[dict[str, float], int, float]],
           load: tuple[float, float]) -> str:
    """The phase times per size as markdown, with the 10k/1k ratio when both ran."""
    head = "| phase | " + " | ".join(f"{n:,}" for n in sizes) + " |"
    ratio = 1_000 in results and 10_000 in results
    lines = [f"`benchmarks/plan_scale.py --resources {' '.join(map(str, sizes))}` "
             f"({os.cpu_count()} cores, Python {platform.python_version()}, load "
             f"{load[0]:.2f} before, {load[1]:.2f} after); CPU seconds, best of the repeats", "",
             head + (" 10k / 1k |" if ratio else ""),
             "|---|" + "---:|" * (len(sizes) + ratio)]
    for phase in PHASES:
        cells = [f"{results[n][0][phase]:.3f}" for n in sizes]
        if ratio:
            cells.append(f"{results[10_000][0][phase] / max(results[1_000][0][phase], 1e-6):.1f}")
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    total = [sum(results[n][0].values()) for n in sizes]
    cells = [f"**{t:.2f}**" for t in total]
    if ratio:
        cells.append(f"**{total[sizes.index(10_000)] / total[sizes.index(1_000)]:.1f}**")
    lines.append("| **all** | " + " | ".join(cells) + " |")
    peaks = [f"{results[n][2]:.0f} MB" for n in sizes]
    if ratio:
        peaks.append(f"{results[10_000][2] / results[1_000][2]:.1f}")
    lines.append("| peak memory (tracemalloc) | " + " | ".join(peaks) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--resources", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)
    load_before = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory(prefix="aimodels-bench-scale-") as scratch:
        for count in args.resources:
            folder = Path(scratch) / f"n{count}" / "stack"
            write_manifests(folder, documents(Workload.of(count)))
            print(f"{count} resources ...", file=sys.stderr)
            results[count] = measure(folder, args.repeat)
    print(report(args.resources, results, (load_before, os.getloadavg()[0])))


if __name__ == "__main__":
    main()
