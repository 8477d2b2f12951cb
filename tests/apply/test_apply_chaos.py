"""Apply under injected faults: the emulator answers 20% of ARM, registry and inference requests
with 500/503 and 20% with 429 (``emulator serve --fault-rate 0.2 --throttle-rate 0.2 --seed N``).

- The first apply of the 16-resource stack (every kind, two Foundry accounts, four namespaces)
  exits 0, and the next plan is empty: polls and final reads after Azure accepted a write ride
  through the faults until the operation's deadline; a 429 or 503 paces the client rather
  than using up its attempts; the registry's POSTs are safe to send again.
- Chaos: faults on, the apply is SIGKILLed after a seeded random delay, the user unlocks and
  applies again (faults still on) until it exits 0, a bounded number of times; then the
  emulator LISTs exactly the declared resources (no duplicate, no orphan), the state names
  each once, and ``plan --detailed-exitcode`` exits 0.

Each seed gets its own emulator process and stack folder; the seeds run three at a time."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from apply_crash_support import (
    KillPoint,
    cli,
    declared,
    emulator_process,
    run_killed,
    unlock_stale,
    write_stack,
)
from test_apply_crash_kill import assert_converged, run_points

#: ``(fault rate, throttle rate)`` of the issue: 20% 5xx, 20% 429.
FAULTS = (0.2, 0.2)
APPLY_SEEDS = (1, 2, 3)
CHAOS_SEEDS = (11, 12, 13)
#: Applies allowed after the kill before the stack must have converged.
MAX_APPLIES = 3


def first_apply_exits_0(folder: Path, seed: int) -> None:
    with emulator_process(folder / "emulator", faults=(*FAULTS, seed)) as emulator:
        stack = write_stack(folder / "stack")

        applied = cli(emulator, stack, "apply", "--yes")

        assert applied.code == 0, applied
        assert "Apply complete: 16 done." in applied.out
        assert "failed" not in applied.out
        assert_converged(emulator, stack, declared())


def converges_after_chaos(folder: Path, seed: int) -> None:
    kill_after = random.Random(seed).uniform(0.5, 4.0)
    with emulator_process(folder / "emulator", faults=(*FAULTS, seed)) as emulator:
        stack = write_stack(folder / "stack")
        assert run_killed(emulator, stack, KillPoint(0, kill_after), "apply", "--yes"), \
            "the apply ended before the kill"
        unlock_stale(emulator, stack)

        for _ in range(MAX_APPLIES):
            applied = cli(emulator, stack, "apply", "--yes")
            if applied.code == 0:
                break
        assert applied.code == 0, applied
        assert_converged(emulator, stack, declared())


@pytest.mark.slow
def test_the_first_apply_under_faults_and_throttling_exits_0(tmp_path: Path) -> None:
    assert run_points(tmp_path, APPLY_SEEDS, first_apply_exits_0, workers=3) == {}


@pytest.mark.slow
def test_chaos_killed_apply_under_faults_converges_to_exactly_the_manifests(
        tmp_path: Path) -> None:
    assert run_points(tmp_path, CHAOS_SEEDS, converges_after_chaos, workers=3) == {}
