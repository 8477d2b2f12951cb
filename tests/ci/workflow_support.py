"""Reading the example GitHub workflows, and running their shell steps as a runner would.

A ``run:`` step runs as GitHub runs ``shell: bash`` on Linux (``bash --noprofile --norc -eo
pipefail``), with the workflow's, job's and step's ``env:`` merged, ``${{ ... }}`` in those
values replaced from a mapping the test gives (an expression it does not give is an error, not
an empty string), ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` as files, and ``aimodels`` from
this virtualenv. Steps that ``uses:`` an action (checkout, artifacts, comments) are not run: the
tests do what they would, with files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
GITHUB = CI / "github"
WORKFLOWS = GITHUB / "workflows"
ACTIONS = GITHUB / "actions"
QUICKSTART = ROOT / "examples" / "quickstart"

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict[Any, Any]:
    """A workflow or action file. YAML 1.1 reads the key ``on`` as True: we put it back."""
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return dict(document)


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.yml"))


@dataclass(frozen=True, slots=True)
class Step:
    """One ``run:`` step: where it is, its script, and its merged, unresolved ``env:``."""

    where: str
    script: str
    env: Mapping[str, str]


def run_steps() -> Iterator[Step]:
    """Every ``run:`` step of every example workflow and composite action."""
    for path in workflow_files():
        document = load(path)
        for job_id, job in document["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    yield _step(f"{path.name}: {job_id}: {step.get('name', index)}", step,
                                document.get("env", {}), job.get("env", {}))
    for path in action_files():
        for index, step in enumerate(load(path)["runs"]["steps"]):
            if "run" in step:
                yield _step(f"{path.parent.name}: {step.get('name', index)}", step)


def workflow_step(workflow: str, job: str, name: str) -> Step:
    """The ``run:`` step called ``name`` in ``job`` of ``workflow`` (a file name)."""
    document = load(WORKFLOWS / workflow)
    steps = document["jobs"][job]["steps"]
    step = next(s for s in steps if s.get("name") == name and "run" in s)
    return _step(f"{workflow}: {job}: {name}", step, document.get("env", {}),
                 document["jobs"][job].get("env", {}))


def action_step(action: str, step_id: str) -> Step:
    """The ``run:`` step with id ``step_id`` of the composite action folder ``action``."""
    steps = load(ACTIONS / action / "action.yml")["runs"]["steps"]
    return _step(f"{action}: {step_id}", next(s for s in steps if s.get("id") == step_id))


def _step(where: str, step: Mapping[str, Any], *envs: Mapping[str, Any]) -> Step:
    merged: dict[str, str] = {}
    for env in (*envs, step.get("env", {})):
        merged.update({key: str(value) for key, value in env.items()})
    return Step(where, str(step["run"]), merged)


@dataclass(frozen=True, slots=True)
class StepRun:
    """What a step did: exit code, what it printed, its outputs and its summary."""

    code: int
    out: str
    err: str
    outputs: dict[str, str]
    summary: str


@dataclass(frozen=True, slots=True)
class Runner:
    """A pretend runner: a temp folder, a workspace, and the environment every step gets."""

    temp: Path
    workspace: Path
    github: Mapping[str, str]
    path: tuple[Path, ...] = ()

    def run(self, step: Step, values: Mapping[str, str] | None = None) -> StepRun:
        """Run ``step``, with ``values`` for the ``${{ ... }}`` of its env."""
        values = values or {}
        output = self.temp / "github_output"
        summary = self.temp / "step_summary"
        output.write_text("")
        summary.write_text("")
        env = {"HOME": str(self.temp), "RUNNER_TEMP": str(self.temp / "runner"),
               "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": str(summary), **self.github,
               "PATH": os.pathsep.join([*map(str, self.path), str(Path(sys.executable).parent),
                                        "/usr/bin", "/bin"])}
        env.update({key: _resolve(value, values, step.where) for key, value in step.env.items()})
        (self.temp / "runner").mkdir(exist_ok=True)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               step.script], cwd=self.workspace, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        return StepRun(done.returncode, done.stdout, done.stderr, _outputs(output),
                       summary.read_text())


def _resolve(value: str, values: Mapping[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in values:
            raise KeyError(f"{where}: the test gives no value for ${{{{ {expression} }}}}")
        return values[expression]

    return _EXPRESSION.sub(one, value)


def _outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines of GITHUB_OUTPUT (the steps never write the multi-line form)."""
    lines = path.read_text().splitlines()
    assert all("=" in line and "<<" not in line.split("=")[0] for line in lines), lines
    return dict(line.split("=", 1) for line in lines)
