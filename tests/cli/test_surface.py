"""The CLI surface: every command of the spec exists, exit codes follow the spec's table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aimodels.cli.main import cli

SPEC_COMMANDS = [
    "validate", "plan", "apply", "destroy", "drift", "import", "export", "state",
    "force-unlock", "models", "deployments", "uploads", "cost", "availability", "access",
    "chat", "emulator", "schema",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aimodels", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_command_of_the_spec() -> None:
    assert set(SPEC_COMMANDS) <= set(cli.commands)
    out = run("--help").stdout
    for name in SPEC_COMMANDS:
        assert f"  {name} " in out, name


def test_version_exits_zero() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert "0.1.0" in proc.stdout


@pytest.mark.parametrize("args", [["plan", "--bogus"], ["nosuchcommand"], ["state", "show"]])
def test_usage_errors_exit_64_never_2(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 64, proc.stderr
    assert "Traceback" not in proc.stderr
