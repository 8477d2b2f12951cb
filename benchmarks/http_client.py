"""Benchmark: the client CPU of one ARM PUT through each HTTP client option aimodels could use.

Run from the repository root:

    .venv/bin/python benchmarks/http_client.py [--requests 3000] [--rounds 2] [--in-flight 10]

One emulator (``aimodels emulator serve --lro-seconds 0``, a subprocess) with the benchmark's AI
managers; then, for each option and round (the options interleaved, so a busy machine weighs on
all of them alike), a child process sends ``--requests`` PUTs of a ModelSource body, each to a
new name, ``--in-flight`` at a time, and measures its own CPU (user + system) over the requests;
the emulator's CPU over the same requests is read from ``/proc``. The options:

- ``httpx``: ``httpx.AsyncClient`` as ``transport/client.py`` builds it (httpcore's pool on
  anyio, h11), with ``sniffio`` installed, as aimodels now requires;
- ``httpx-no-sniffio``: the same as it ran before aimodels required ``sniffio``: anyio 4.16 no
  longer installs it, and httpcore imports it on every pool event (``current_async_library``),
  so each of those imports failed after searching the whole ``sys.path``; the child makes the
  import fail the same way (the same search, for a name that is not installed);
- ``httpx-limits``: the same with a pool of at most ``--in-flight`` connections, all kept alive
  (httpcore scans its connections several times on every pool event, in a loop quadratic in
  their number; the default pool has room for 100), as ``transport/client.py`` now sizes it;
- ``httpx-aiohttp``: ``httpx.AsyncClient`` over ``httpx_aiohttp.AiohttpTransport`` (aiohttp's
  connection pool and C HTTP parser under httpx's API; PyPI ``httpx-aiohttp``);
- ``aiohttp``: a bare ``aiohttp.ClientSession``, no httpx at all: the floor of the one above;
- ``azure-httpx`` / ``azure-aiohttp``: ``AzureClient.request`` (token, request id, retries,
  events, error mapping) over the httpx default or the aiohttp transport: aimodels' own cost.

It also reports what each option's imports add to a process that has imported httpx already
(``python -X importtime``, best of three), since ``aimodels plan`` pays imports at every start.
Options whose package is not installed are skipped with a note. Not a test: nothing asserts a
timing; it fails only when a PUT does not answer 200/201.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from apply_scale import process_cpu, serve
from plan_refresh import AI_MANAGERS, RESOURCE_GROUP, SUBSCRIPTION, Workload, write_fixtures

API_VERSION = "2026-08-02-preview"
TOKEN = "aimodels-local-dev-token"
OPTIONS = ("httpx-no-sniffio", "httpx", "httpx-limits", "httpx-aiohttp", "aiohttp", "azure-httpx",
           "azure-aiohttp")
#: The module each option needs beyond httpx, for the import-time column.
#: What the ratio column compares with: aimodels' client before this benchmark.
BASELINE = "httpx-no-sniffio"
EXTRA_IMPORT = {"httpx": "sniffio", "httpx-aiohttp": "httpx_aiohttp", "aiohttp": "aiohttp",
                "azure-aiohttp": "httpx_aiohttp"}


def _path(tag: str, i: int) -> str:
    manager = AI_MANAGERS[i % len(AI_MANAGERS)]
    return (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
            f"Microsoft.ContainerService/aiManagers/{manager}/modelSources/{tag}-{i:06d}")


def _body(i: int) -> dict[str, Any]:
    return {"properties": {"sourceType": "HuggingFace", "description": f"Hugging Face org {i}"}}


# --- the child: one option, N requests ------------------------------------------------------------


async def _drive(send: Callable[[str, dict[str, Any]], Awaitable[int]], tag: str,
                 count: int, in_flight: int) -> tuple[float, float]:
    """``count`` PUTs, ``in_flight`` workers; returns (CPU seconds, wall seconds)."""
    await send(_path(tag + "w", 0), _body(0))  # warm: the connection, lazy imports
    queue = iter(range(count))
    statuses: set[int] = set()

    async def worker() -> None:
        for i in queue:
            statuses.add(await send(_path(tag, i), _body(i)))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if not statuses <= {200, 201}:
        raise SystemExit(f"PUTs answered {sorted(statuses)}")
    return cpu, wall


def _timeout() -> Any:
    import httpx

    from aimodels.transport.config import ClientConfig

    config = ClientConfig(target="local")
    return httpx.Timeout(config.read_timeout, connect=config.connect_timeout)


class _Missing:
    """A ``sys.meta_path`` finder for which ``sniffio`` is not installed, at the cost of not
    finding it: the whole ``sys.path`` searched (for a name nobody has) on every import."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "sniffio":
            from importlib.machinery import PathFinder

            PathFinder.find_spec("sniffio_not_installed", path)
            raise ModuleNotFoundError("No module named 'sniffio'", name=name)


async def _child(option: str, url: str, tag: str, count: int,
                 in_flight: int) -> tuple[float, float]:
    import httpx

    if option == "httpx-no-sniffio":
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _Missing())

    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    params = {"api-version": API_VERSION}
    if option == "aiohttp":
        import aiohttp

        async with aiohttp.ClientSession(base_url=url, headers=headers) as session:
            async def send_raw(path: str, body: dict[str, Any]) -> int:
                async with session.put(path, json=body, params=params) as response:
                    await response.read()
                    return response.status
            return await _drive(send_raw, tag, count, in_flight)
    if option.startswith("azure-"):
        from aimodels.transport.client import AzureClient
        from aimodels.transport.config import ClientConfig

        transport = _transport(option.replace("azure-", "httpx-"), in_flight)
        config = ClientConfig(target="local", endpoint=url, max_concurrency=in_flight)
        async with AzureClient.from_config(config, transport=transport) as client:
            async def send_azure(path: str, body: dict[str, Any]) -> int:
                return (await client.request("PUT", path, json=body)).status
            return await _drive(send_azure, tag, count, in_flight)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=_timeout(),
                                 transport=_transport(option, in_flight)) as http:
        async def send(path: str, body: dict[str, Any]) -> int:
            response = await http.put(path, json=body, params=params)
            return response.status_code
        return await _drive(send, tag, count, in_flight)


def _transport(option: str, in_flight: int) -> Any:
    """The ``transport=`` argument of ``httpx.AsyncClient`` for an option (None: httpx's own)."""
    import httpx

    if option == "httpx-limits":
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        return httpx.AsyncHTTPTransport(limits=limits)
    if option == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport()
    return None


# --- the parent: emulator, rounds, report ---------------------------------------------------------


def available(option: str) -> bool:
    module = EXTRA_IMPORT.get(option)
    if module is None:
        return True
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def import_ms(module: str) -> float:
    """Milliseconds that importing ``module`` adds after httpx (cumulative, best of three)."""
    best = float("inf")
    for _ in range(3):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                               f"import httpx, aimodels.transport.client; import {module}"],
                              capture_output=True, text=True, check=True)
        pattern = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$")
        total = 0
        seen_httpx = False
        for line in done.stderr.splitlines():
            match = pattern.search(line)
            if not match:
                continue
            if match.group(3) == "aimodels.transport.client":
                seen_httpx = True
                continue
            if seen_httpx and match.group(2) == "":  # a top-level import after httpx's
                total += int(match.group(1))
        best = min(best, total / 1000)
    return best


def run_option(option: str, url: str, pid: int, tag: str, count: int,
               in_flight: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", option, "--url", url, "--tag", tag,
               "--requests", str(count), "--in-flight", str(in_flight)]
    emulator = process_cpu(pid)
    load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    emulator = process_cpu(pid) - emulator
    if done.returncode != 0:
        raise SystemExit(f"{option} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "emulator": emulator, "load": load}


def report(results: dict[str, list[dict[str, float]]], imports: dict[str, float],
           count: int, in_flight: int) -> str:
    lines = [f"`benchmarks/http_client.py --requests {count} --in-flight {in_flight}` "
             f"({os.cpu_count()} cores, Python {sys.version.split()[0]}); best round of "
             f"{max(len(r) for r in results.values())}", "",
             f"| option | client CPU per request | vs {BASELINE} | emulator CPU per request | "
             "wall per request | import after httpx | load |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    base = (min(r["cpu"] for r in results[BASELINE]) / count) if BASELINE in results else None
    for option, runs in results.items():
        best = min(runs, key=lambda r: r["cpu"])
        cpu = best["cpu"] / count
        ratio = f"{cpu / base:.2f}x" if base else "-"
        lines.append(f"| {option} | {cpu * 1000:.3f} ms | {ratio} | "
                     f"{best['emulator'] / count * 1000:.3f} ms | "
                     f"{best['wall'] / count * 1000:.3f} ms | "
                     f"{imports.get(option, 0.0):.1f} ms | {best['load']:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=10)
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=OPTIONS)
    parser.add_argument("--child", choices=OPTIONS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="b", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        cpu, wall = asyncio.run(_child(args.child, args.url, args.tag, args.requests,
                                       args.in_flight))
        print(json.dumps({"cpu": cpu, "wall": wall}))
        return
    options = [o for o in args.options if available(o) or print(f"skipped {o}: not installed",
                                                                  file=sys.stderr)]
    imports = {o: import_ms(EXTRA_IMPORT[o]) for o in options if o in EXTRA_IMPORT}
    results: dict[str, list[dict[str, float]]] = {o: [] for o in options}
    with tempfile.TemporaryDirectory(prefix="aimodels-bench-http-") as scratch:
        fixtures = Path(scratch) / "fixtures.json"
        write_fixtures(fixtures, Workload(0, 0, 0))
        with serve(Path(scratch) / "emulator", fixtures) as (url, pid):
            for round_ in range(args.rounds):
                for n, option in enumerate(options):
                    result = run_option(option, url, pid, f"r{round_}o{n}", args.requests,
                                        args.in_flight)
                    results[option].append(result)
                    print(f"round {round_ + 1} {option}: "
                          f"{result['cpu'] / args.requests * 1000:.3f} ms CPU per request",
                          file=sys.stderr)
    print(report(results, imports, args.requests, args.in_flight))


if __name__ == "__main__":
    main()
