"""examples/custom-model as a user runs it (issue 10's "done when"): weights made by the
script, one ``apply`` uploads, registers and deploys on both kinds, ``chat`` answers, a second
plan is empty, a version bump applies cleanly and retires the old version, and ``destroy``
leaves no registered version behind. The real CLI against a served emulator."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import httpx
import pytest
from e2e_support import QUICKSTART, ROOT, Cli, edit, state_of

from aimodels.emulator.cognitiveservices import seed_account
from aimodels.emulator.containerservice import seed_parents
from aimodels.emulator.server import RunningEmulator

EXAMPLE = ROOT / "examples" / "custom-model"
WEIGHTS = Path("weights") / "tiny-coder.safetensors"


def make_weights(folder: Path, seed: int) -> None:
    """What the example's README says to run: examples/quickstart/make_weights.py."""
    spec = importlib.util.spec_from_file_location("make_weights", QUICKSTART / "make_weights.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (folder / WEIGHTS).parent.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS).write_bytes(module.safetensors_bytes(seed))


@pytest.fixture
def example(tmp_path: Path, emulator: RunningEmulator) -> Path:
    """A copy of the example, with the parents its Stack names seeded on the served emulator
    (the embedded one seeds them itself)."""
    folder = tmp_path / "custom-model"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".aimodels", "weights"))
    sub, rg = "00000000-0000-0000-0000-000000000000", "rg-custom-model"
    seed_parents(emulator.emulator, sub, rg, "eastus", "custom-demo")
    seed_account(emulator.emulator, sub, rg, "custom-demo-foundry", "eastus")
    make_weights(folder, 20241120)
    return folder


def registered(outside: httpx.Client) -> list[str]:
    found = outside.get("/custom-models", params={"name": "tiny-coder"}).json()["value"]
    return sorted(m["version"] for m in found)


def test_the_custom_model_example_end_to_end(capsys: pytest.CaptureFixture[str],
                                             emulator: RunningEmulator, example: Path,
                                             outside: httpx.Client) -> None:
    cli = Cli(capsys, emulator.url, example)
    assert cli("validate").code == 0

    applied = cli.applied()
    assert "Apply complete: 3 done." in applied.out
    assert cli("chat", "coder-chat", "hello").out == "[emulated coder-chat] You said: hello\n"
    assert cli("chat", "coder-foundry", "hi").out == "[emulated tiny-coder] You said: hi\n"
    cli.assert_no_changes()

    edit(example / "custom-model.yaml", 'version: "1.0"', 'version: "2.0"')
    make_weights(example, 7)
    planned = cli("plan")
    assert "version 1.0 is deleted after FoundryDeployment/coder-foundry, " \
           "ModelDeployment/coder-chat move off it" in planned.out
    cli.applied()
    assert registered(outside) == ["2.0"]
    assert cli("chat", "coder-chat", "again").code == 0
    cli.assert_no_changes()

    destroyed = cli("destroy", "--yes")
    assert destroyed.code == 0, destroyed.text
    assert registered(outside) == []
    assert state_of(example)["resources"] == []
