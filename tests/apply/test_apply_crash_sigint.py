"""Ctrl-C during apply: no new change starts, the calls in flight get a few seconds to be
answered (so their LRO handles reach the journal), what completed is in the state, the lock is
released, and the run exits 7 with what was done. A second Ctrl-C stops at once. Either way
the next apply (no force-unlock needed) reconciles what was in flight and converges."""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path

from apply_crash_support import (
    PROGRESS,
    EmulatorProcess,
    by_address,
    cli,
    declared,
    emulator_process,
    live_names,
    start,
    state_addresses,
    write_stack,
)

from aimodels.state.journal import Journal

SUMMARY = re.compile(r"Apply interrupted: (\d+) done, (\d+) not started, (\d+) in flight "
                     r"\(will be reconciled by the next apply\)\.")


def interrupt(emulator: EmulatorProcess, stack: Path, after_lines: int,
              signals: int = 1) -> tuple[int, str, float]:
    """Run ``apply --yes``, send SIGINT ``signals`` times (20 ms apart) at the first change
    starting once ``after_lines`` progress lines are out; the exit code, the whole output and
    the seconds from the first SIGINT to the exit."""
    with start(emulator, stack, "apply", "--yes") as child:
        assert child.stdout is not None
        lines: list[str] = []
        seen = 0
        for line in child.stdout:
            lines.append(line)
            seen += bool(PROGRESS.match(line))
            if seen >= after_lines and line.endswith(": creating\n"):
                break
        sent = time.monotonic()
        for _ in range(signals):
            child.send_signal(signal.SIGINT)
            time.sleep(0.02)
        rest = threading.Thread(target=lambda: lines.extend(child.stdout))  # type: ignore[arg-type]
        rest.start()
        code = child.wait(timeout=30)
        rest.join()
    return code, "".join(lines), time.monotonic() - sent


def listed(output: str, title: str) -> list[str]:
    """The addresses after ``Title:`` in the report (``Not started: A, B``)."""
    found = re.search(rf"^{re.escape(title)}[^:]*: (.+)$", output, re.MULTILINE)
    return sorted(found.group(1).split(", ")) if found else []


def assert_next_apply_converges(emulator: EmulatorProcess, stack: Path) -> None:
    applied = cli(emulator, stack, "apply", "--yes")
    assert applied.code == 0, applied
    assert cli(emulator, stack, "plan", "--detailed-exitcode").code == 0
    assert live_names(emulator) == declared()
    assert state_addresses(stack) == by_address(declared())


def test_ctrl_c_stops_gracefully_and_the_next_apply_converges(tmp_path: Path) -> None:
    with emulator_process(tmp_path / "emulator", lro_seconds=1.0) as emulator:
        stack = write_stack(tmp_path / "stack")
        code, output, took = interrupt(emulator, stack, after_lines=10)

        assert code == 7, output
        assert "Interrupted: no new change starts; waiting up to 10 s for" in output
        summary = SUMMARY.search(output)
        assert summary is not None, output
        done, not_started, in_flight = (int(n) for n in summary.groups())
        assert done + not_started + in_flight == 16
        assert not_started and in_flight, output  # a real mid-run stop
        assert took < 8, took  # the calls in flight were answered well within the grace
        assert not (stack / ".aimodels" / "state.lock").exists()

        left, flying = listed(output, "Not started"), listed(output, "In flight")
        assert (len(left), len(flying)) == (not_started, in_flight)
        expected_done = sorted(set(by_address(declared())) - set(left) - set(flying))
        assert state_addresses(stack) == expected_done
        pending = {e.address: e for e in Journal(stack / ".aimodels").pending()}
        assert sorted(pending) == flying
        assert all("lro" in e.details for a, e in pending.items()
                   if not a.startswith("CustomModel/"))

        assert_next_apply_converges(emulator, stack)


def test_a_second_ctrl_c_stops_at_once(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack")
    # Slow answers keep the first Ctrl-C waiting for the calls in flight when the second comes.
    with emulator_process(tmp_path / "emulator", lro_seconds=1.0, latency_ms=150) as slow:
        code, output, took = interrupt(slow, stack, after_lines=9, signals=2)

    assert code == 7, output
    assert "Interrupted again: stopped at once" in output
    assert took < 2, took
    assert not (stack / ".aimodels" / "state.lock").exists()
    assert Journal(stack / ".aimodels").pending()  # what was in flight, for the next apply
    # The same data served again on another port: journaled handles still lead to their
    # operations (their URLs are moved to the endpoint in use).
    with emulator_process(tmp_path / "emulator", lro_seconds=1.0) as emulator:
        assert_next_apply_converges(emulator, stack)
