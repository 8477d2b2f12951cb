"""Fixtures for the CI examples: an emulator on loopback, a repository holding a copy of the
quickstart as its ``infra/`` folder, and runners whose steps call aimodels against that
emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from workflow_support import QUICKSTART, Runner

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread

REPOSITORY = "example-org/infra-repo"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_in_thread(EmulatorConfig(lro_seconds=0)) as running:
        yield running


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout of a team's repository: the quickstart's manifests under infra/."""
    shutil.copytree(QUICKSTART, tmp_path / "repo" / "infra",
                    ignore=shutil.ignore_patterns(".aimodels", "__pycache__"))
    return tmp_path / "repo"


@pytest.fixture
def make_runner(tmp_path: Path, workspace: Path, emulator: RunningEmulator,
                ) -> Callable[..., Runner]:
    """``make_runner(name, path=(), **github)``: a runner of its own (temp folder), on the
    shared checkout, with GITHUB_* variables and any folders to put first on PATH."""

    def make(name: str, path: tuple[Path, ...] = (), **github: str) -> Runner:
        temp = tmp_path / "runners" / name
        temp.mkdir(parents=True)
        variables = {"GITHUB_REPOSITORY": REPOSITORY, "GITHUB_SERVER_URL": "https://github.com",
                     "GITHUB_RUN_ID": "1000", "GITHUB_SHA": "0" * 40,
                     "GITHUB_EVENT_NAME": "pull_request",
                     "AIMODELS_ENDPOINT": emulator.url, **github}
        return Runner(temp, workspace, variables, path)

    return make
