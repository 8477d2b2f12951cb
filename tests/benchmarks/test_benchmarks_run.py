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
    ("plan_refresh.py", ["--resources", "20", "--repeat", "1", "--latency-ms", "0"], "| 20 |"),
    ("apply_scale.py", ["--changes", "5"], "| 5 |"),
])
def test_a_benchmark_runs_at_its_smallest_size(script: str, args: list[str], row: str) -> None:
    ran = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True,
                         text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert row in ran.stdout, ran.stdout[-2000:]
