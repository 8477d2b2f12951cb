"""Benchmark: ``aimodels apply`` of N deployments at ``--parallelism p`` against the ideal and a
sequential loop over the official SDK, in one run.

    .venv/bin/python benchmarks/apply_parallel.py [--deployments 200] [--parallelism 20]
        [--lro-seconds 3] [--foundry 100] [--accounts 10] [--sdk-deployments 200] [--repeat 3]

1. Writes, in a temp dir, a fixtures file (the built-in sections the benchmark extends, copied:
   ``--fixtures`` replaces whole sections) with four AI managers of four namespaces, twice
   ``--accounts`` Foundry accounts in eastus and eastus2 (ours and the SDK loop's) and GPU
   quota for 2 x N A100 replicas; and a Stack of ``--foundry`` FoundryDeployments
   (GlobalStandard, capacity 1, ten models) round robin over the accounts, the rest
   ModelDeployments (one replica of a 4-14B catalog model on Standard_NC24ads_A100_v4) over
   the 16 namespaces.
2. Serves the emulator (``aimodels emulator serve --lro-seconds T``, a subprocess: each create
   is a T-second LRO, and a Cognitive Services account takes one write at a time).
3. Times ``aimodels apply --yes --parallelism p`` (a subprocess, AIMODELS_ENDPOINT), noting
   when each progress line arrives, ``--repeat`` times on a fresh emulator and state (after
   a warm-up ``plan``); then ``aimodels plan --detailed-exitcode`` must exit 0.
4. Computes the issue's ideal ``ceil(N/p) x T`` and the one that holds with one write at a time
   per account, ``max(ceil(N/p), most deployments on one account) x T`` (reachable: the
   wrap-around schedule of unit jobs, McNaughton's).
5. Creates ``--sdk-deployments`` copies (other names, accounts of their own, same namespaces)
   one after another with the official SDK machinery (``apply_parallel_sdk.py``); fewer than N
   are extrapolated to N (linear: the loop is sequential).
6. Prints the figures and ratios as markdown for docs/performance.md.

Not a test: nothing asserts a timing; it fails when apply fails, when plan finds changes
afterwards, or when an SDK call fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-bench-apply"
LOCATION = "eastus"
AI_MANAGERS = ("apply-a", "apply-b", "apply-c", "apply-d")
NAMESPACES = ("default", "dev", "staging", "prod")
#: Azure's default limit of standard deployments per Azure OpenAI / AI Foundry resource.
DEPLOYMENTS_PER_ACCOUNT = 32
#: Catalog models that fit one A100 80 GB (a 1-GPU VM: the emulator's sizing accepts it).
CATALOG_MODELS = ("microsoft/Phi-4-mini-instruct", "microsoft/Phi-4", "Qwen/Qwen2.5-7B-Instruct",
                  "mistralai/Mistral-7B-Instruct-v0.3", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")
VM_SIZE, VM_FAMILY = "Standard_NC24ads_A100_v4", "NCadsA100_v4"
#: (format, name, version) offered as GlobalStandard in eastus and eastus2, with quota to spare.
FOUNDRY_MODELS = (("OpenAI", "gpt-4o", "2024-11-20"), ("OpenAI", "gpt-4o-mini", "2024-07-18"),
                  ("OpenAI", "gpt-4.1", "2025-04-14"), ("OpenAI", "gpt-4.1-mini", "2025-04-14"),
                  ("OpenAI", "gpt-4.1-nano", "2025-04-14"), ("OpenAI", "gpt-5-mini", "2025-08-07"),
                  ("DeepSeek", "DeepSeek-R1", "1"), ("Meta", "Llama-3.3-70B-Instruct", "4"),
                  ("Microsoft", "Phi-4", "7"), ("Mistral AI", "Mistral-Large-2411", "2"))
RAI_POLICY = "Microsoft.DefaultV2"
#: The bearer token aimodels sends to an emulator (transport/config.py LOCAL_DEV_TOKEN).
TOKEN = "aimodels-local-dev-token"



@dataclass(frozen=True, slots=True)
class Workload:
    """N deployments: ``foundry`` of them over ``accounts`` accounts, the rest ModelDeployments."""

    deployments: int
    foundry: int
    accounts: int

    @property
    def model(self) -> int:
        return self.deployments - self.foundry

    def account_names(self, owner: str = "apply") -> list[tuple[str, str]]:
        """``(name, location)`` of each Foundry account, alternately eastus and eastus2;
        ``owner`` "sdk" names the SDK loop's own set of accounts."""
        return [(f"{owner}-foundry-{k + 1:02d}", ("eastus", "eastus2")[k % 2])
                for k in range(self.accounts)]

    def busiest_account(self) -> int:
        """The most FoundryDeployments on one account (round robin: the ceiling)."""
        return -(-self.foundry // self.accounts)


def ideals(work: Workload, parallelism: int, lro_seconds: float) -> tuple[float, float]:
    """Wall-time lower bounds in seconds: the issue's ``ceil(N/p) x T``, and the one with one
    write at a time per account (no account's chain can be shorter than its deployments)."""
    rounds = math.ceil(work.deployments / parallelism)
    return rounds * lro_seconds, max(rounds, work.busiest_account()) * lro_seconds


@dataclass(frozen=True, slots=True)
class Target:
    """One deployment to create: its kind, name, parent and what it runs."""

    kind: str
    name: str
    parent: tuple[str, ...]
    model: tuple[str, ...]


def targets(work: Workload, owner: str = "apply") -> list[Target]:
    """The workload's deployments; the SDK loop's copies (``owner`` "sdk") are named apart and
    go to accounts of their own (the same AI manager namespaces)."""
    accounts = [name for name, _ in work.account_names(owner)]
    prefix = "" if owner == "apply" else f"{owner}-"
    out = [Target("FoundryDeployment", f"{prefix}fd-{i:04d}", (accounts[i % len(accounts)],),
                  FOUNDRY_MODELS[i % len(FOUNDRY_MODELS)]) for i in range(work.foundry)]
    for i in range(work.model):
        manager = AI_MANAGERS[i % len(AI_MANAGERS)]
        namespace = NAMESPACES[(i // len(AI_MANAGERS)) % len(NAMESPACES)]
        out.append(Target("ModelDeployment", f"{prefix}md-{i:04d}", (manager, namespace),
                          (CATALOG_MODELS[i % len(CATALOG_MODELS)],)))
    return out


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "aimodels/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def manifest(target: Target) -> dict[str, Any]:
    """The manifest document of one deployment."""
    if target.kind == "FoundryDeployment":
        fmt, name, version = target.model
        return _doc(target.kind, target.name, {
            "account": target.parent[0], "model": {"format": fmt, "name": name,
                                                   "version": version},
            "sku": {"name": "GlobalStandard", "capacity": 1}, "raiPolicyName": RAI_POLICY})
    manager, namespace = target.parent
    return _doc(target.kind, target.name, {
        "aiManager": manager, "namespace": namespace, "model": {"catalog": target.model[0]},
        "vmSize": VM_SIZE, "scale": {"replicas": 1}})


def write_manifests(folder: Path, work: Workload) -> None:
    """The Stack and one file per kind and parent, as a repository would hold them."""
    first_account = work.account_names()[0][0]
    files: dict[str, list[dict[str, Any]]] = {"stack.yaml": [_doc("Stack", "bench-apply", {
        "target": "azure", "subscriptionId": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP,
        "location": LOCATION, "aiManager": AI_MANAGERS[0], "foundryAccount": first_account})]}
    for target in targets(work):
        files.setdefault(f"{target.kind.lower()}-{'-'.join(target.parent)}.yaml",
                         []).append(manifest(target))
    folder.mkdir(parents=True)
    for name, docs in files.items():
        (folder / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))


def write_fixtures(path: Path, work: Workload) -> None:
    """The built-in fixtures plus the benchmark's parents (accounts for us and for the SDK
    loop), and GPU quota for twice N replicas (ours and the SDK loop's) in the VM family used."""
    from aimodels.emulator.fixtures import load

    builtin = load()
    managers = [{"subscriptionId": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP,
                 "location": LOCATION, "name": m, "namespaces": list(NAMESPACES)}
                for m in AI_MANAGERS]
    accounts = [{"subscription": SUBSCRIPTION, "resourceGroup": RESOURCE_GROUP, "name": name,
                 "location": location}
                for owner in ("apply", "sdk") for name, location in work.account_names(owner)]
    cognitive = dict(builtin["cognitiveServices"])
    cognitive["accounts"] = [*cognitive["accounts"], *accounts]
    quota = {region: dict(families) for region, families in
             builtin["containerService.gpuQuota"].items()}
    quota[LOCATION][VM_FAMILY] = quota[LOCATION].get(VM_FAMILY, 0) + 2 * work.model
    path.write_text(json.dumps({
        "containerService.aiManagers": [*builtin["containerService.aiManagers"], *managers],
        "containerService.gpuQuota": quota, "cognitiveServices": cognitive}))



def aimodels(*args: str) -> list[str]:
    """The command line of the real CLI (the console script beside this interpreter)."""
    script = Path(sys.executable).with_name("aimodels")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "aimodels", *args]


@contextmanager
def serve(fixtures: Path, lro_seconds: float) -> Iterator[str]:
    """``aimodels emulator serve`` (in memory); yields its URL, stops it on exit."""
    command = aimodels("emulator", "serve", "--fixtures", str(fixtures),
                       "--lro-seconds", f"{lro_seconds:g}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on" not in line:
            raise SystemExit(f"the emulator did not start: {line!r}")
        yield line.split("listening on", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def cli_env(url: str, stack: Path) -> dict[str, str]:
    """The CLI's environment: the emulator's origin, plain output, lines flushed as printed,
    and bytecode cached beside the stack as an installed package has it."""
    env = {**os.environ, "AIMODELS_ENDPOINT": url, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
           "PYTHONPYCACHEPREFIX": str(stack.parent / "bytecode")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass(frozen=True, slots=True)
class ApplyRun:
    """``aimodels apply``'s wall time; from its progress lines as they arrived, when the first
    step started, the last ended (s from the start), how many were created, their mean time."""

    wall: float
    first_start: float
    last_end: float
    created: int
    mean_step: float

    @classmethod
    def of(cls, wall: float, arrivals: Sequence[tuple[float, str]]) -> ApplyRun:
        starts = {line.split()[1]: t for t, line in arrivals if line.endswith(": creating")}
        ends = {line.split()[1]: t for t, line in arrivals if ": created (" in line}
        steps = [ends[a] - starts[a] for a in ends if a in starts]
        return cls(wall, min(starts.values(), default=0.0), max(ends.values(), default=0.0),
                   len(ends), sum(steps) / max(len(steps), 1))


def time_apply(url: str, stack: Path, parallelism: int) -> ApplyRun:
    """``aimodels apply --yes --parallelism p`` as a subprocess; exits unless it succeeds."""
    command = aimodels("apply", "--yes", "--parallelism", str(parallelism), "-f", str(stack))
    started = time.perf_counter()
    process = subprocess.Popen(command, env=cli_env(url, stack), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    arrivals: list[tuple[float, str]] = []
    assert process.stdout is not None
    for line in process.stdout:
        arrivals.append((time.perf_counter() - started, line.rstrip("\n")))
    code = process.wait()
    wall = time.perf_counter() - started
    if code != 0:
        tail = "\n".join(line for _, line in arrivals[-40:])
        raise SystemExit(f"aimodels apply exited {code}:\n{tail}")
    return ApplyRun.of(wall, arrivals)


def check_plan(url: str, stack: Path, expected: int) -> None:
    """``aimodels plan --detailed-exitcode`` must exit ``expected``: 2 before the apply (which
    also warms the bytecode cache and the emulator), 0 after it (nothing left to change)."""
    done = subprocess.run(aimodels("plan", "--detailed-exitcode", "-f", str(stack)),
                          env=cli_env(url, stack), text=True, capture_output=True, check=False)
    if done.returncode != expected:
        raise SystemExit(f"plan exited {done.returncode} ({expected} expected):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def measure(fixtures: Path, stack: Path, work: Workload, args: argparse.Namespace,
            sdk_loop: bool) -> tuple[ApplyRun, float]:
    """One apply on a fresh emulator and state, checked; then the SDK loop if asked."""
    write_manifests(stack, work)
    with serve(fixtures, args.lro_seconds) as url:
        check_plan(url, stack, expected=2)
        applied = time_apply(url, stack, args.parallelism)
        if applied.created != work.deployments:
            raise SystemExit(f"apply created {applied.created}, expected {work.deployments}")
        check_plan(url, stack, expected=0)
        print(f"  apply: {applied.wall:.1f} s", file=sys.stderr)
        return applied, time_sdk_loop(url, work, args.sdk_deployments) if sdk_loop else 0.0



def time_sdk_loop(url: str, work: Workload, count: int) -> float:
    """Seconds to create ``count`` copies of the workload's deployments one after another
    (the list is interleaved, so a prefix keeps the Foundry/model mix of the whole)."""
    from apply_parallel_sdk import SdkLoop

    loop = SdkLoop(url, TOKEN, SUBSCRIPTION, RESOURCE_GROUP)
    model_ids = loop.catalog_ids(LOCATION)
    chosen = _interleaved(targets(work, owner="sdk"))[:count]
    started = time.perf_counter()
    for target in chosen:
        if target.kind == "FoundryDeployment":
            state = loop.create_foundry(target.parent[0], target.name, target.model, RAI_POLICY)
        else:
            state = loop.create_model_deployment(*target.parent, target.name,
                                                 model_ids[target.model[0]], VM_SIZE)
        if state.lower() != "succeeded":
            raise SystemExit(f"SDK create of {target.kind}/{target.name} ended {state}")
    return time.perf_counter() - started


def _interleaved(items: Sequence[Target]) -> list[Target]:
    """Foundry and model deployments alternated in proportion, so any prefix is a fair sample."""
    placed: list[tuple[float, Target]] = []
    for kind in ("FoundryDeployment", "ModelDeployment"):
        group = [t for t in items if t.kind == kind]
        placed += [((i + 0.5) / len(group), t) for i, t in enumerate(group)]
    return [t for _, t in sorted(placed, key=lambda p: p[0])]



def report(args: argparse.Namespace, work: Workload, runs: Sequence[ApplyRun],
           sdk_seconds: float, load: Sequence[float]) -> str:
    """Markdown for docs/performance.md: the command, the machine and its load average (1 min,
    before → after), the median apply (all runs listed), the ideals, the SDK loop, ratios."""
    run = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    (naive, per_account), wall = ideals(work, args.parallelism, args.lro_seconds), run.wall
    executor = run.last_end - run.first_start
    sdk = sdk_seconds * work.deployments / args.sdk_deployments
    sdk_what = (f"all {work.deployments}" if args.sdk_deployments == work.deployments else
                f"{args.sdk_deployments} measured ({sdk_seconds:.1f} s), extrapolated "
                f"to {work.deployments}")
    rounds = f"ceil({work.deployments}/{args.parallelism})"

    def versus(ideal: float) -> str:
        return f"apply ÷ ideal {wall / ideal:.2f}x (executor {executor / ideal:.2f}x)"

    return "\n".join([
        f"Command: `.venv/bin/python benchmarks/apply_parallel.py --deployments "
        f"{args.deployments} --parallelism {args.parallelism} --lro-seconds "
        f"{args.lro_seconds:g} --foundry {args.foundry} --accounts {args.accounts} "
        f"--sdk-deployments {args.sdk_deployments} --repeat {args.repeat}`",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; load average "
        f"{load[0]:.1f} → {load[-1]:.1f}.",
        f"Workload: {work.foundry} FoundryDeployments over {work.accounts} accounts (at most "
        f"{work.busiest_account()} on one), {work.model} ModelDeployments over "
        f"{len(AI_MANAGERS) * len(NAMESPACES)} namespaces; each create is a "
        f"{args.lro_seconds:g} s LRO.",
        "",
        "| run | seconds | ratio |",
        "|---|---|---|",
        f"| `aimodels apply --yes --parallelism {args.parallelism}`, whole command, median "
        f"of {', '.join(f'{r.wall:.1f}' for r in runs)} | {wall:.1f} | |",
        f"| of which the executor (first step started → last step done) | {executor:.1f} | |",
        f"| ideal, the issue's: {rounds} × {args.lro_seconds:g} s | {naive:.1f} | "
        f"{versus(naive)} |",
        f"| ideal with one write at a time per account: max({rounds}, "
        f"{work.busiest_account()}) × {args.lro_seconds:g} s | {per_account:.1f} | "
        f"{versus(per_account)} |",
        f"| sequential official-SDK loop, {sdk_what} | {sdk:.1f} | SDK loop ÷ apply "
        f"{sdk / wall:.1f}x |",
        "",
        f"Before the first step: {run.first_start:.1f} s (interpreter, manifests, live reads, "
        f"pre-flight, plan output); after the last: {wall - run.last_end:.1f} s (report). "
        f"Mean step: {run.mean_step:.2f} s. `aimodels plan --detailed-exitcode` afterwards: "
        "exit 0.",
    ])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--deployments", type=int, default=200, help="deployments to create")
    parser.add_argument("--parallelism", type=int, default=20, help="apply --parallelism")
    parser.add_argument("--lro-seconds", type=float, default=3.0, help="emulator LRO time")
    parser.add_argument("--foundry", type=int, help="FoundryDeployments among them (half)")
    parser.add_argument("--accounts", type=int, default=10, help="Foundry accounts")
    parser.add_argument("--sdk-deployments", type=int, help="how many the sequential SDK loop "
                        "creates (default: all; fewer are extrapolated)")
    parser.add_argument("--repeat", type=int, default=3, help="applies timed (each on a "
                        "fresh emulator and state; the median is reported)")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = parser.parse_args(argv)
    args.foundry = args.deployments // 2 if args.foundry is None else args.foundry
    args.sdk_deployments = args.sdk_deployments or args.deployments
    if not 0 <= args.foundry <= args.deployments or args.accounts < 1:
        parser.error("--foundry must be between 0 and --deployments, --accounts at least 1")
    if -(-args.foundry // args.accounts) > DEPLOYMENTS_PER_ACCOUNT:
        parser.error(f"more than {DEPLOYMENTS_PER_ACCOUNT} deployments per account (Azure's "
                     "default limit): raise --accounts")
    if args.repeat < 1 or not 1 <= args.sdk_deployments <= args.deployments:
        parser.error("--repeat must be at least 1, --sdk-deployments between 1 and "
                     "--deployments")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    work = Workload(args.deployments, args.foundry, args.accounts)
    with tempfile.TemporaryDirectory(prefix="aimodels-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        write_fixtures(folder / "fixtures.json", work)
        load = [os.getloadavg()[0]]
        print(f"aimodels apply of {work.deployments} deployments, {args.repeat} times ...",
              file=sys.stderr)
        runs = [measure(folder / "fixtures.json", folder / f"stack-{k + 1}", work, args,
                        sdk_loop=k + 1 == args.repeat) for k in range(args.repeat)]
        load.append(os.getloadavg()[0])
    print(report(args, work, [run for run, _ in runs], runs[-1][1], load))


if __name__ == "__main__":
    main()
