"""Ctrl-C while ``plan`` loads its manifests in a child process (``service/manifest_load.py``):
the command stops as it always did ("aborted", exit 1, no traceback), and the child is stopped
and waited for, not left running or as a zombie (where the container's init reaps none, an
unwaited child stays in the process table)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aimodels.emulator.server import RunningEmulator

SOURCE = """\
apiVersion: aimodels/v1
kind: ModelSource
metadata: {{name: source-{index:04d}}}
spec: {{sourceType: HuggingFace, description: source number {index}}}
"""


def _children(pid: int) -> list[int]:
    listed = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True,
                            text=True, check=False).stdout
    return [int(word) for word in listed.split()]


def _state(pid: int) -> str:
    """The process's state letter (Z: a zombie), or "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return ""


def test_ctrl_c_while_the_manifests_load_stops_and_waits_for_the_child(
        stack: Path, emulator: RunningEmulator) -> None:
    for index in range(600):  # enough that the child is still loading when it is interrupted
        (stack / f"source-{index:04d}.yaml").write_text(SOURCE.format(index=index))
    command = [sys.executable, "-m", "aimodels", "--endpoint", emulator.url, "plan", "-f",
               str(stack)]
    plan = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    children: list[int] = []
    while not children and plan.poll() is None and time.monotonic() < deadline:
        children = _children(plan.pid)
        time.sleep(0.005)
    assert children, "plan never started a child to load the manifests"
    os.killpg(plan.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    out, _ = plan.communicate(timeout=30)
    assert plan.returncode in (1, -signal.SIGINT), out
    assert "Traceback" not in out, out
    time.sleep(0.2)
    assert [_state(child) for child in children] == [""], "the child outlived the command"
