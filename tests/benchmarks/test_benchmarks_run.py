"""The benchmarks still run against the code they time.

They are not timed here (docs/performance.md holds the figures); each runs at its smallest size
so that a change to the product or to a shared workload helper that breaks a benchmark fails the
suite instead of the next person measuring. Each must exit 0 and print its markdown table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize(("script", "args", "row"), [
    ("plan_scale.py", ["--resources", "20", "--repeat", "1"], "| **all** |"),
    ("plan_refresh.py", ["--resources", "20", "--repeat", "1", "--latency-ms", "0"],
     "| floor: a bare httpx program"),
    ("apply_scale.py", ["--changes", "5"], "| 5 |"),
])
def test_a_benchmark_runs_at_its_smallest_size(script: str, args: list[str], row: str) -> None:
    ran = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True,
                         text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert row in ran.stdout, ran.stdout[-2000:]


def test_the_plan_floor_fails_when_a_resource_of_the_state_is_not_listed(tmp_path: Path) -> None:
    """``list_floor.py`` times only what it checks: a state resource its listings did not
    return makes it exit 1 (so a floor that skipped reads could not pass for fast)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from plan_refresh import RESOURCE_GROUP, SUBSCRIPTION, Workload, serve, write_fixtures
    finally:
        sys.path.remove(str(BENCHMARKS))
    fixtures = tmp_path / "fixtures.json"
    write_fixtures(fixtures, Workload.of(20))
    missing = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
               "Microsoft.ContainerService/aiManagers/bench-a/modelSources/never-created")
    state = tmp_path / "state.json"
    state.write_text(f'{{"resources": [{{"resourceId": "{missing}"}}]}}')
    with serve(tmp_path / "data", fixtures, latency_ms=0) as url:
        ran = subprocess.run([sys.executable, str(BENCHMARKS / "list_floor.py"), str(state)],
                             env={"AIMODELS_ENDPOINT": url, "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 resources not listed, e.g. " + missing in ran.stderr
