"""Both ways apply runs, on a terminal (rich live table, the confirmation answered "yes" at the
prompt) and without one (``--yes``, plain progress lines), record every completed change in
the state; a second apply then has nothing to do."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from apply_crash_support import (
    ROOT,
    Served,
    by_address,
    cli,
    declared,
    live_names,
    write_stack,
)

from aimodels.emulator.server import RunningEmulator

PROMPT = b"Only 'yes' will be accepted"


def in_terminal(emulator: Served, stack: Path, *args: str,
                answer: bytes | None = None) -> tuple[int, str]:
    """``aimodels ARGS -f STACK`` with a pseudo-terminal as stdin, stdout and stderr, typing
    ``answer`` at the confirmation prompt; the exit code and everything the terminal showed."""
    main, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    child = subprocess.Popen([sys.executable, "-m", "aimodels", *args, "-f", str(stack)],
                             stdin=secondary, stdout=secondary, stderr=secondary, cwd=ROOT,
                             env={**env, "AIMODELS_ENDPOINT": emulator.url, "TERM": "xterm"})
    os.close(secondary)
    shown = b""
    try:
        while select.select([main], [], [], 60)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if answer is not None and PROMPT in shown:
                os.write(main, answer + b"\n")
                answer = None
        return child.wait(timeout=60), shown.decode(errors="replace")
    finally:
        os.close(main)


def assert_every_change_recorded(stack: Path) -> None:
    state = json.loads((stack / ".aimodels" / "state.json").read_text())
    assert [r["address"] for r in state["resources"]] == by_address(declared())
    assert all(r["etag"] for r in state["resources"] if not r["address"].startswith("Custom"))
    assert not (stack / ".aimodels" / "journal.jsonl").exists()


@pytest.mark.parametrize("terminal", [True, False], ids=["tty", "pipe"])
def test_apply_records_every_change_with_or_without_a_terminal(
        emulator: RunningEmulator, tmp_path: Path, terminal: bool) -> None:
    stack = write_stack(tmp_path / "stack")
    if terminal:
        code, shown = in_terminal(emulator, stack, "apply", answer=b"yes")
        assert "Do you want to perform these actions?" in shown
        assert "Elapsed" in shown  # the live table of a terminal, not plain lines
    else:
        run = cli(emulator, stack, "apply", "--yes")
        code, shown = run.code, run.out + run.err
        assert "Elapsed" not in shown and "ModelDeployment/md-0: created" in shown
    assert code == 0, shown
    assert "Apply complete: 16 done." in shown
    assert_every_change_recorded(stack)
    assert live_names(emulator) == declared()

    again = in_terminal(emulator, stack, "apply") if terminal else \
        (lambda r: (r.code, r.out + r.err))(cli(emulator, stack, "apply", "--yes"))
    assert again[0] == 0, again[1]
    assert "No changes." in again[1]
    assert cli(emulator, stack, "plan", "--detailed-exitcode").code == 0


def test_anything_but_yes_at_the_prompt_changes_nothing(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack")
    code, shown = in_terminal(emulator, stack, "apply", answer=b"no")
    assert code == 1, shown
    assert "Apply cancelled; nothing was changed" in shown
    assert not (stack / ".aimodels" / "state.json").exists()
    assert not (stack / ".aimodels" / "state.lock").exists()
    assert live_names(emulator) == {kind: [] for kind in declared()}
