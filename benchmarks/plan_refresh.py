"""Benchmark: ``aimodels plan`` over N unchanged resources against a Terraform-style refresh.

Run from the repository root:

    .venv/bin/python benchmarks/plan_refresh.py [--workload spread|concentrated]
        [--resources 100 1000 10000] [--latency-ms 50] [--repeat 5] [--keep DIR] [--compare DIR]

What it does, in one run, for each size of ``--resources``:

1. Writes a fixtures file adding four AI managers (four namespaces each) and Foundry accounts
   (alternately in eastus and eastus2, at most 32 deployments each, Azure's default limit per
   resource) to the built-in ones, and a Stack with N resources:
   - ``spread``: 20% ModelSources over the four AI managers, 40% ModelDeployments (scaled to
     zero, so GPU quota is no limit) over their 16 namespaces, 40% FoundryDeployments
     (capacity 1, over ten models);
   - ``concentrated``: 95% ModelSources in one AI manager (one collection: its pages come one
     after another, each ``nextLink`` with the page before) and 5% FoundryDeployments.
2. Serves the emulator (``aimodels emulator serve``, a subprocess) with no latency over a data
   folder and runs ``aimodels apply --yes`` once, so the resources, their ETags and the state
   file are the real ones (skipped for a ``--keep`` folder seeded by an earlier run).
3. Serves the same data again with ``--latency-ms`` and, interleaved ``--repeat`` times, times:
   - ``aimodels plan --detailed-exitcode`` as a subprocess (the whole command: interpreter
     start, manifests, state, live reads, planning; it must exit 0: nothing to change), with
     its CPU time (user + system) and peak resident set, from ``wait4``;
   - with ``--compare DIR``, the same command run from the ``aimodels`` package under DIR (a
     copy of other code, e.g. before a change), in the same rounds;
   - the floor: ``list_floor.py`` as a subprocess, a bare httpx program that lists the same
     collections 10 at a time and does nothing else (no manifests, no planning): the best a
     plan written in Python over httpx could do at that moment on this machine;
   - the live-read phase alone (``read_live``, in this process, the code ``plan`` runs);
   - the baseline: one GET per resource id of the state, 10 at a time (httpx.AsyncClient, a
     semaphore of 10, the same bearer token and api-versions), as ``terraform refresh`` does.
4. Prints, per size, the medians, every run, the ratios, CPU per resource, peak RSS and the load
   average before and after, then a summary table across sizes: markdown for
   docs/performance.md.

Not a test: nothing here asserts a timing; it fails only if plan finds changes, the floor misses
a resource or a GET fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-bench"
AI_MANAGERS = ("bench-a", "bench-b", "bench-c", "bench-d")
NAMESPACES = ("default", "dev", "staging", "prod")
#: Azure's default limit of standard deployments per Azure OpenAI / AI Foundry resource.
DEPLOYMENTS_PER_ACCOUNT = 32
CATALOG_MODELS = ("microsoft/Phi-4-mini-instruct", "microsoft/Phi-4", "Qwen/Qwen2.5-7B-Instruct",
                  "mistralai/Mistral-7B-Instruct-v0.3", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")
#: (format, name, version) offered as GlobalStandard in eastus and eastus2, with quota to spare.
FOUNDRY_MODELS = (("OpenAI", "gpt-4o", "2024-11-20"), ("OpenAI", "gpt-4o-mini", "2024-07-18"),
                  ("OpenAI", "gpt-4.1", "2025-04-14"), ("OpenAI", "gpt-4.1-mini", "2025-04-14"),
                  ("OpenAI", "gpt-4.1-nano", "2025-04-14"), ("OpenAI", "gpt-5-mini", "2025-08-07"),
                  ("DeepSeek", "DeepSeek-R1", "1"), ("Meta", "Llama-3.3-70B-Instruct", "4"),
                  ("Microsoft", "Phi-4", "7"), ("Mistral AI", "Mistral-Large-2411", "2"))
#: The bearer token aimodels sends to an emulator (transport/config.py LOCAL_DEV_TOKEN).
TOKEN = "aimodels-local-dev-token"
API_VERSIONS = {"microsoft.containerservice": "2026-08-02-preview",
                "microsoft.cognitiveservices": "2025-09-01"}


@dataclass(frozen=True, slots=True)
class Run:
    """One timed command: wall and CPU seconds (user + system, which tells its work apart from
    waiting and from contention) and its peak resident set in MiB."""

    wall: float
    cpu: float
    rss_mib: float


@dataclass(slots=True)
class Timings:
    """Every repetition of each measurement at one size, and the load average around them."""

    plan: list[Run]
    compare: list[Run]
    floor: list[Run]
    live_read: list[float]
    refresh: list[float]
    load_before: float = 0.0
    load_after: float = 0.0


# --- the workload -------------------------------------------------------------------------------

WORKLOADS = ("spread", "concentrated")


@dataclass(frozen=True, slots=True)
class Workload:
    """How many resources of each kind, over how many AI managers the sources are, and the
    Foundry accounts the deployments need."""

    sources: int
    model_deployments: int
    foundry_deployments: int
    source_managers: int = len(AI_MANAGERS)

    @classmethod
    def of(cls, count: int, kind: str = "spread") -> Workload:
        """``spread``: 20% sources over four AI managers, 40% model deployments, 40% Foundry
        deployments. ``concentrated``: 95% sources in one AI manager, 5% Foundry deployments."""
        if kind == "concentrated":
            foundry = max(1, count // 20)
            return cls(count - foundry, 0, foundry, source_managers=1)
        sources = count // 5
        model = (count - sources) // 2
        return cls(sources, model, count - sources - model)

    @property
    def accounts(self) -> list[tuple[str, str]]:
        """``(name, location)`` of each Foundry account, alternately eastus and eastus2."""
        count = max(1, -(-self.foundry_deployments // DEPLOYMENTS_PER_ACCOUNT))
        return [(f"bench-foundry-{k + 1:02d}", ("eastus", "eastus2")[k % 2])
                for k in range(count)]


def documents(work: Workload) -> list[dict[str, Any]]:
    """The Stack and the workload's resources as manifest documents."""
    accounts = [name for name, _ in work.accounts]
    docs = [_stack(accounts[0])]
    docs += [_source(i, AI_MANAGERS[i % work.source_managers]) for i in range(work.sources)]
    docs += [_model_deployment(i) for i in range(work.model_deployments)]
    docs += [_foundry_deployment(i, accounts) for i in range(work.foundry_deployments)]
    return docs


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "aimodels/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def _stack(account: str) -> dict[str, Any]:
    return _doc("Stack", "bench", {
        "target": "azure", "subscriptionId": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP,
        "location": "eastus", "aiManager": AI_MANAGERS[0], "foundryAccount": account})


def _source(i: int, manager: str) -> dict[str, Any]:
    return _doc("ModelSource", f"src-{i:05d}", {
        "aiManager": manager, "sourceType": "HuggingFace",
        "description": f"Hugging Face org {i}"})


def _model_deployment(i: int) -> dict[str, Any]:
    manager = AI_MANAGERS[i % len(AI_MANAGERS)]
    namespace = NAMESPACES[(i // len(AI_MANAGERS)) % len(NAMESPACES)]
    return _doc("ModelDeployment", f"md-{i:05d}", {
        "aiManager": manager, "namespace": namespace,
        "model": {"catalog": CATALOG_MODELS[i % len(CATALOG_MODELS)]},
        "vmSize": "Standard_NC24ads_A100_v4", "scale": {"replicas": 0}})


def _foundry_deployment(i: int, accounts: Sequence[str]) -> dict[str, Any]:
    fmt, name, version = FOUNDRY_MODELS[i % len(FOUNDRY_MODELS)]
    return _doc("FoundryDeployment", f"fd-{i:05d}", {
        "account": accounts[i % len(accounts)],
        "model": {"format": fmt, "name": name, "version": version},
        "sku": {"name": "GlobalStandard", "capacity": 1}})


def write_manifests(folder: Path, docs: Sequence[dict[str, Any]]) -> None:
    """One file per kind and parent, as a repository would hold them."""
    files: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        spec = doc["spec"]
        parent = spec.get("account") or "-".join(
            str(spec[k]) for k in ("aiManager", "namespace") if k in spec)
        files.setdefault(f"{doc['kind'].lower()}-{parent or 'stack'}.yaml", []).append(doc)
    folder.mkdir(parents=True)
    for name, group in files.items():
        (folder / name).write_text(yaml.safe_dump_all(group, sort_keys=False))


def write_fixtures(path: Path, work: Workload) -> None:
    """The built-in fixtures plus the benchmark's AI managers and accounts."""
    from aimodels.emulator.fixtures import load

    builtin = load()
    managers = [{"subscriptionId": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP,
                 "location": "eastus", "name": m, "namespaces": list(NAMESPACES)}
                for m in AI_MANAGERS]
    accounts = [{"subscription": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP, "name": name,
                 "location": location} for name, location in work.accounts]
    cognitive = dict(builtin["cognitiveServices"])
    cognitive["accounts"] = [*cognitive["accounts"], *accounts]
    path.write_text(json.dumps({
        "containerService.aiManagers": [*builtin["containerService.aiManagers"], *managers],
        "cognitiveServices": cognitive}))


# --- processes ----------------------------------------------------------------------------------


def aimodels(*args: str) -> list[str]:
    """The command line of the real CLI (the console script beside this interpreter)."""
    script = Path(sys.executable).with_name("aimodels")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "aimodels", *args]


@contextmanager
def serve(data: Path, fixtures: Path, latency_ms: int) -> Iterator[str]:
    """``aimodels emulator serve`` over ``data``; yields its URL, stops it on exit."""
    command = aimodels("emulator", "serve", "--data", str(data), "--fixtures", str(fixtures),
                       "--lro-seconds", "0", "--latency-ms", str(latency_ms))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.split("listening on", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def run_cli(url: str, stack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI against ``url``, with bytecode cached beside the stack as an installed package
    has it (a PYTHONDONTWRITEBYTECODE environment would compile every module on every run)."""
    return subprocess.run(aimodels(*args, "-f", str(stack)), env=cli_env(url, stack), text=True,
                          capture_output=True, check=False)


def cli_env(url: str, stack: Path, code: Path | None = None) -> dict[str, str]:
    """The CLI's environment; with ``code``, the ``aimodels`` package under that folder comes
    first on the path (the editable install's finder comes after ``PYTHONPATH``)."""
    env = {**os.environ, "AIMODELS_ENDPOINT": url, "NO_COLOR": "1",
           "PYTHONPYCACHEPREFIX": str(stack.parent / ("bytecode-compare" if code else "bytecode"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def seed(url: str, stack: Path) -> float:
    """``aimodels apply --yes`` once; returns how long it took."""
    started = time.perf_counter()
    done = run_cli(url, stack, "apply", "--yes", "--parallelism", "20")
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    return time.perf_counter() - started


# --- the three measurements ---------------------------------------------------------------------


def time_plan(url: str, stack: Path, code: Path | None = None) -> Run:
    """The whole ``aimodels plan --detailed-exitcode`` command (from the package under ``code``
    when given): wall and CPU seconds and peak RSS of that process alone (``wait4``). It must
    find nothing to do."""
    command = [sys.executable, "-m", "aimodels"] if code else aimodels()
    return time_process([*command, "plan", "--detailed-exitcode", "-f", str(stack)],
                        cli_env(url, stack, code), f"plan{f' ({code})' if code else ''}",
                        "0 expected: nothing to change")


def time_floor(url: str, stack: Path) -> Run:
    """``list_floor.py`` over the state file: a bare httpx program that only lists the
    collections ``plan`` lists, the best any plan written in Python over httpx can do."""
    command = [sys.executable, str(Path(__file__).with_name("list_floor.py")),
               str(stack / ".aimodels" / "state.json")]
    return time_process(command, cli_env(url, stack), "list_floor.py",
                        "0 expected: every resource listed")


def time_process(command: Sequence[str], env: dict[str, str], name: str, expected: str) -> Run:
    """Wall and CPU seconds and peak RSS of ``command`` alone (``wait4``); it must exit 0."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   text=True)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{name} exited {process.returncode} ({expected}):\n"
                             f"{out.read()[-3000:]}")
    # ru_maxrss is in KiB on Linux.
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def time_live_read(url: str, stack: Path) -> float:
    """``read_live`` alone, as ``plan`` calls it (manifests and state loaded beforehand)."""
    from aimodels.live.reader import read_live
    from aimodels.manifest import load_manifests
    from aimodels.providers.registry import default_registry
    from aimodels.service.connection import connect
    from aimodels.service.inputs import resolve_inputs
    from aimodels.service.planning import prior_resources
    from aimodels.state.local import STATE_DIR, STATE_FILE, read_state

    desired = load_manifests((str(stack),), env={}, strict_env=True).desired
    state = read_state(stack / STATE_DIR / STATE_FILE)
    prior = prior_resources(state)
    inputs = resolve_inputs(desired, state, {})

    async def read() -> float:
        async with connect(desired, url) as client:
            started = time.perf_counter()
            found = await read_live(desired, prior, client, registry=default_registry(),
                                    inputs=inputs)
            elapsed = time.perf_counter() - started
        if len(found.live.objects) != len(desired.resources):
            raise SystemExit(f"read_live found {len(found.live.objects)} of "
                             f"{len(desired.resources)} resources")
        return elapsed

    return asyncio.run(read())


def time_refresh(url: str, resource_ids: Sequence[str], parallel: int = 10) -> float:
    """Terraform's refresh: one GET per resource, ``parallel`` at a time, one client."""
    async def refresh() -> float:
        slots = asyncio.Semaphore(parallel)
        headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            async def get(resource_id: str) -> int:
                async with slots:
                    response = await client.get(resource_id,
                                                params={"api-version": api_version(resource_id)})
                    return response.status_code

            started = time.perf_counter()
            statuses = await asyncio.gather(*(get(r) for r in resource_ids))
            elapsed = time.perf_counter() - started
        if set(statuses) != {200}:
            raise SystemExit(f"refresh GETs answered {sorted(set(statuses))}")
        return elapsed

    return asyncio.run(refresh())


def api_version(resource_id: str) -> str:
    provider = resource_id.split("/providers/")[-1].split("/")[0].lower()
    return API_VERSIONS[provider]


def state_resource_ids(stack: Path) -> list[str]:
    state = json.loads((stack / ".aimodels" / "state.json").read_text())
    return [r["resourceId"] for r in state["resources"]]


def measure(url: str, stack: Path, repeat: int, compare: Path | None) -> Timings:
    """Each measurement ``repeat`` times, interleaved so that drift hits all alike."""
    ids = state_resource_ids(stack)
    time_plan(url, stack)  # warm-up: page cache, .pyc files, the emulator's SQLite
    time_floor(url, stack)
    if compare:
        time_plan(url, stack, compare)
    timings = Timings([], [], [], [], [], load_before=_load())
    for _ in range(repeat):
        timings.plan.append(time_plan(url, stack))
        if compare:
            timings.compare.append(time_plan(url, stack, compare))
        timings.floor.append(time_floor(url, stack))
        timings.live_read.append(time_live_read(url, stack))
        timings.refresh.append(time_refresh(url, ids))
    timings.load_after = _load()
    return timings


# --- the report ---------------------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run."""
    sizes = " ".join(str(n) for n in args.resources)
    extra = f" --compare {args.compare}" if args.compare else ""
    return (f".venv/bin/python benchmarks/plan_refresh.py --workload {args.workload} "
            f"--resources {sizes} --latency-ms {args.latency_ms} --repeat {args.repeat}{extra}")


def machine() -> str:
    """Cores, architecture, Python and system, for the report."""
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def report_size(count: int, timings: Timings, seeded: float | None,
                compare: Path | None) -> str:
    """Markdown for one size: every measurement, its runs, and the ratios to the refresh."""
    refresh = statistics.median(timings.refresh)
    live = statistics.median(timings.live_read)
    floor = statistics.median(r.wall for r in timings.floor)

    def runs(values: Sequence[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    def plan_rows(label: str, measured: Sequence[Run]) -> list[str]:
        wall = statistics.median(r.wall for r in measured)
        cpu = statistics.median(r.cpu for r in measured)
        rss = max(r.rss_mib for r in measured)
        return [
            f"| {label}, whole command | {wall:.2f} | {runs([r.wall for r in measured])} | "
            f"**{refresh / wall:.1f}x** |",
            f"| (its CPU, user + system; {1000 * cpu / count:.2f} ms per resource; peak RSS "
            f"{rss:.0f} MiB) | {cpu:.2f} | {runs([r.cpu for r in measured])} | |",
        ]

    seeding = (f"seeded by `aimodels apply --yes` in {seeded:.1f} s" if seeded is not None
               else "folder seeded by an earlier run")
    rows = plan_rows("`aimodels plan --detailed-exitcode`", timings.plan)
    if compare:
        rows += plan_rows(f"the same from `{compare}`", timings.compare)
    return "\n".join([
        f"**{count} resources** ({seeding}; load average {timings.load_before:.2f} before, "
        f"{timings.load_after:.2f} after)",
        "",
        "| measurement (median of runs) | seconds | runs | refresh ÷ this |",
        "|---|---|---|---|",
        *rows,
        f"| floor: a bare httpx program that only lists the same collections "
        f"(`list_floor.py`, whole process) | {floor:.2f} | "
        f"{runs([r.wall for r in timings.floor])} | {refresh / floor:.1f}x |",
        f"| live-read phase of plan (`read_live`, in process) | {live:.2f} | "
        f"{runs(timings.live_read)} | {refresh / live:.1f}x |",
        f"| refresh baseline: one GET per resource, 10 in parallel | {refresh:.2f} | "
        f"{runs(timings.refresh)} | 1.0x |",
        "",
    ])


def report_summary(results: Sequence[tuple[int, Timings]], compare: Path | None) -> str:
    """One row per size: the curve of wall time, CPU and memory, and the ratios."""
    lines = ["| resources | plan, whole command | its CPU | CPU per resource | peak RSS | "
             "refresh | refresh ÷ plan | floor | refresh ÷ floor | load before, after |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for count, timings in results:
        refresh = statistics.median(timings.refresh)
        floor = statistics.median(r.wall for r in timings.floor)
        for label, measured in (("", timings.plan), (" (compare)", timings.compare)):
            if not measured:
                continue
            wall = statistics.median(r.wall for r in measured)
            cpu = statistics.median(r.cpu for r in measured)
            rss = max(r.rss_mib for r in measured)
            lines.append(f"| {count:,}{label} | {wall:.2f} s | {cpu:.2f} s | "
                         f"{1000 * cpu / count:.2f} ms | {rss:.0f} MiB | {refresh:.2f} s | "
                         f"**{refresh / wall:.1f}x** | {floor:.2f} s | {refresh / floor:.1f}x | "
                         f"{timings.load_before:.2f}, "
                         f"{timings.load_after:.2f} |")
    lines.append("\nfloor: `list_floor.py`, a bare httpx program that only lists the collections "
                 "of the state's resources (no manifests, no planning), as a whole process.")
    if compare:
        lines.append(f"\n(compare): the same command run from the package under `{compare}`.")
    return "\n".join(lines)


def _load() -> float:
    """The one-minute load average: other work on the machine slows the CPU-bound plan."""
    return os.getloadavg()[0]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workload", choices=WORKLOADS, default="spread",
                        help="resources over many parents (spread) or mostly in one "
                        "collection (concentrated)")
    parser.add_argument("--resources", type=int, nargs="+", default=[1000],
                        help="resources to manage; several sizes make a sweep")
    parser.add_argument("--latency-ms", type=int, default=50, help="emulator latency per request")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR/<workload>-<N> and keep it; a folder seeded by an "
                        "earlier run is timed again without seeding")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also time plan run from the aimodels package under DIR (a copy "
                        "of other code), interleaved")
    args = parser.parse_args(argv)
    if min(args.resources) < 20 or args.repeat < 1:
        parser.error("--resources must be at least 20 and --repeat at least 1")
    if args.compare and not (args.compare / "aimodels" / "__init__.py").is_file():
        parser.error(f"--compare: no aimodels package under {args.compare}")
    return args


def prepare(work: Path, count: int, kind: str) -> float | None:
    """Fixtures, manifests and one real apply in ``work``; returns the seconds apply took, or
    None when ``work`` was seeded by an earlier run."""
    stack, data, fixtures = work / "stack", work / "emulator", work / "fixtures.json"
    if (stack / ".aimodels" / "state.json").is_file():
        return None
    work.mkdir(parents=True, exist_ok=True)
    work_load = Workload.of(count, kind)
    write_fixtures(fixtures, work_load)
    write_manifests(stack, documents(work_load))
    print(f"seeding {count} resources ({kind}) with aimodels apply ...", file=sys.stderr)
    with serve(data, fixtures, latency_ms=0) as url:
        return seed(url, stack)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    results: list[tuple[int, Timings]] = []
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="aimodels-bench-") as scratch:
        for count in args.resources:
            work = (args.keep or Path(scratch)) / f"{args.workload}-{count}"
            seeded = prepare(work, count, args.workload)
            stack, data, fixtures = work / "stack", work / "emulator", work / "fixtures.json"
            print(f"timing {count} resources with --latency-ms {args.latency_ms} ...",
                  file=sys.stderr)
            with serve(data, fixtures, latency_ms=args.latency_ms) as url:
                timings = measure(url, stack, args.repeat, args.compare)
            results.append((count, timings))
            sections.append(report_size(count, timings, seeded, args.compare))
            if not args.keep:
                shutil.rmtree(work)
    print("\n".join([f"Command: `{command_line(args)}`", f"Machine: {machine()}.", "",
                      *sections, report_summary(results, args.compare)]))


if __name__ == "__main__":
    main()
