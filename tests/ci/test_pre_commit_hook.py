"""The pre-commit hook that aimodels provides (.pre-commit-hooks.yaml at the repository root) and
the configuration docs/ci.md tells teams to use: the hook runs ``aimodels validate`` as
pre-commit would, passing when the manifests are valid and stopping the commit (exit 3) when
they are not."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from workflow_support import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def documented_config() -> dict[str, Any]:
    """The ``.pre-commit-config.yaml`` of docs/ci.md's "Pre-commit hook" section."""
    section = (ROOT / "docs" / "ci.md").read_text().split("## Pre-commit hook", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    return dict(yaml.safe_load(block.group(1)))


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    return dict(hooks[0])


def run_hook(workspace: Path) -> subprocess.CompletedProcess[str]:
    """The hook's entry plus the documented args, as pre-commit runs it (no file names)."""
    configured = documented_config()["repos"][0]["hooks"][0]
    entry = shlex.split(hook()["entry"])
    assert entry[0] == "aimodels"
    executable = str(Path(sys.executable).parent / "aimodels")  # what pre-commit's venv holds
    return subprocess.run([executable, *entry[1:], *configured["args"]], cwd=workspace,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_hook_definition_is_what_pre_commit_expects() -> None:
    assert hook() == {
        "id": "aimodels-validate", "name": "aimodels validate",
        "description": "Check aimodels manifests (schema, references, duplicates, cycles, "
                       "secrets); no network.",
        "entry": "aimodels validate", "language": "python", "files": r"\.(ya?ml)$",
        "pass_filenames": False}
    files = re.compile(hook()["files"])
    assert [name for name in ("infra/stack.yaml", "a.yml", "README.md", "x.yaml.bak")
            if files.search(name)] == ["infra/stack.yaml", "a.yml"]


def test_the_documented_configuration_uses_the_hook() -> None:
    repos = documented_config()["repos"]
    assert [h["id"] for h in repos[0]["hooks"]] == [hook()["id"]]
    assert repos[0]["hooks"][0]["args"] == ["-f", "infra"]


def test_the_hook_passes_valid_manifests(workspace: Path) -> None:
    done = run_hook(workspace)
    assert done.returncode == 0, done.stderr
    assert "4 resources in 5 files are valid (Stack quickstart" in done.stdout


def test_the_hook_stops_a_commit_with_invalid_manifests(workspace: Path) -> None:
    manifest = workspace / "infra" / "model-deployment.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 1", "replicas: many"))
    done = run_hook(workspace)
    assert done.returncode == 3
    assert "model-deployment.yaml:" in done.stderr
