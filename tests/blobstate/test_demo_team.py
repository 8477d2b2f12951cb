"""``scripts/demo-team``, the documented two-runner demo, runs to the end: it checks every exit
code itself (the shared state, the refused second apply, the SIGKILLed holder whose lease runs
out, the recovery from the other folder), so passing means each step did what it says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_team_demo_runs_to_the_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMODELS_", "AZURE_"))}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "demo-team")], capture_output=True,
                          text=True, timeout=240, env={**env, "NO_COLOR": "1"},
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert out.count("(exit 6, as expected)") == 2
    assert "that process is gone from this host, so the lock is stale" in done.stdout + \
        done.stderr
    assert "An earlier apply was interrupted: reconciling" in done.stdout + done.stderr
    assert "laptop/.aimodels: \n" in out and "ci-runner/.aimodels: \n" in out
    assert "Done: two runners" in out
