"""The kill -9 test: ``aimodels apply --yes`` of 16 resources (every kind, two Foundry accounts,
four namespaces) killed with SIGKILL at 11 moments from its start to its end, each followed by
what a user does (the next apply reports the lock as stale; ``force-unlock``; apply again).
Each time the second apply must converge: ``plan --detailed-exitcode`` exits 0, the emulator
LISTs exactly the declared resources (no duplicate, no orphan, nothing missing) and the state
names each exactly once. A read-only plan run between the crash and the recovery must say that
an apply was interrupted instead of asking for ``aimodels import``. Then the same for destroy.

Each kill point gets its own emulator process (``--data``, outliving the killed client) and
stack folder, so the points run four at a time."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from apply_crash_support import (
    EmulatorProcess,
    KillPoint,
    by_address,
    cli,
    declared,
    emulator_process,
    live_names,
    run_killed,
    state_addresses,
    unlock_stale,
    write_stack,
)

from aimodels.state.journal import Journal

#: From before the plan is made (0.05 s) to the last deployments (about 46 progress lines).
APPLY_KILLS = (KillPoint(0, 0.05), KillPoint(0, 0.6), KillPoint(2), KillPoint(6, 0.05),
               KillPoint(9), KillPoint(13), KillPoint(17, 0.1), KillPoint(22),
               KillPoint(27, 0.2), KillPoint(36), KillPoint(45, 0.1))
DESTROY_KILLS = (KillPoint(2), KillPoint(12, 0.1), KillPoint(30, 0.05))
Point = TypeVar("Point")


def converges_after_killed_apply(folder: Path, point: KillPoint) -> None:
    with emulator_process(folder / "emulator") as emulator:
        stack = write_stack(folder / "stack")
        killed = run_killed(emulator, stack, point, "apply", "--yes")
        assert killed or point == APPLY_KILLS[-1], "the apply ended before the kill"
        preview_says_interrupted(emulator, stack)
        unlock_stale(emulator, stack, through_cli=point == APPLY_KILLS[6])

        applied = cli(emulator, stack, "apply", "--yes")
        assert applied.code == 0, applied
        assert_converged(emulator, stack, declared())


def converges_after_killed_destroy(folder: Path, point: KillPoint) -> None:
    with emulator_process(folder / "emulator") as emulator:
        stack = write_stack(folder / "stack")
        assert cli(emulator, stack, "apply", "--yes").code == 0
        assert run_killed(emulator, stack, point, "destroy", "--yes"), "destroy ended first"
        unlock_stale(emulator, stack)

        destroyed = cli(emulator, stack, "destroy", "--yes")
        assert destroyed.code == 0, destroyed
        assert state_addresses(stack) == []
        assert by_address(live_names(emulator)) == []
        assert not (stack / ".aimodels" / "journal.jsonl").exists()


def preview_says_interrupted(emulator: EmulatorProcess, stack: Path) -> None:
    """``plan`` between the crash and the recovery: no import error for what the dead run
    created; the interrupted run is named when its journal holds open intents."""
    preview = cli(emulator, stack, "plan")
    assert preview.code == 0, preview
    assert "aimodels import" not in preview.out + preview.err
    if Journal(stack / ".aimodels").pending():
        assert "an earlier apply was interrupted" in preview.out + preview.err, preview


def assert_converged(emulator: EmulatorProcess, stack: Path,
                     expected: dict[str, list[str]]) -> None:
    plan = cli(emulator, stack, "plan", "--detailed-exitcode")
    assert plan.code == 0, plan
    assert live_names(emulator) == expected
    assert state_addresses(stack) == by_address(expected)
    assert not (stack / ".aimodels" / "journal.jsonl").exists()
    assert not (stack / ".aimodels" / "state.lock").exists()


def run_points(tmp_path: Path, points: tuple[Point, ...],
               check: Callable[[Path, Point], None], workers: int = 4) -> dict[str, str]:
    """Run ``check`` for every kill point (or seed), ``workers`` at a time; the failures by
    point."""
    def one(index: int, point: Point) -> tuple[str, str | None]:
        try:
            check(tmp_path / f"point-{index}", point)
        except Exception as exc:  # collected, so every point is reported
            return str(point), f"{type(exc).__name__}: {exc}"
        return str(point), None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(one, range(len(points)), points))
    return {point: failure for point, failure in outcomes if failure}


@pytest.mark.slow
def test_apply_killed_at_any_moment_converges_on_the_next_apply(tmp_path: Path) -> None:
    assert run_points(tmp_path, APPLY_KILLS, converges_after_killed_apply) == {}


@pytest.mark.slow
def test_destroy_killed_midway_completes_on_the_next_destroy(tmp_path: Path) -> None:
    assert run_points(tmp_path, DESTROY_KILLS, converges_after_killed_destroy) == {}
