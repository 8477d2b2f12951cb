"""actionlint over the example workflows, laid out as a repository's .github/ folder, with
shellcheck over every ``run:`` script; and proof that a broken workflow does fail it.

actionlint checks the workflow syntax, expressions and their types (a job output or step output
that does not exist), the inputs of known actions and of our two local composite actions, and
runs shellcheck on each ``run:`` script. It does not read composite actions' own scripts, so
shellcheck gets those directly.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_support import GITHUB, WORKFLOWS, Step, run_steps

BIN = Path(sys.executable).parent
ACTIONLINT = shutil.which("actionlint", path=str(BIN)) or "actionlint-not-installed"
SHELLCHECK = shutil.which("shellcheck", path=str(BIN)) or "shellcheck-not-installed"


def repository(folder: Path) -> Path:
    """``folder`` as a repository whose .github/ is examples/ci/github (what docs/ci.md says to
    copy). The .git folder tells actionlint where the root is, to resolve ``uses: ./...``."""
    shutil.copytree(GITHUB, folder / ".github")
    (folder / ".git").mkdir()
    return folder


def actionlint(root: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p.relative_to(root)) for p in (root / ".github" / "workflows").glob("*"))
    return subprocess.run([ACTIONLINT, "-oneline", "-shellcheck", SHELLCHECK, "-pyflakes", "",
                           *files], cwd=root, capture_output=True, text=True, timeout=120,
                          check=False)


def shellcheck(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHELLCHECK, "--shell=bash", "--format=gcc", "-"], input=script,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_example_workflows_pass_actionlint(tmp_path: Path) -> None:
    linted = actionlint(repository(tmp_path))
    assert (linted.returncode, linted.stdout, linted.stderr) == (0, "", "")


def test_a_broken_workflow_fails_actionlint_with_each_mistake_named(tmp_path: Path) -> None:
    root = repository(tmp_path)
    drift = root / ".github" / "workflows" / "aimodels-drift.yml"
    text = drift.read_text()
    for old, new in [
        # a job output that does not exist
        ("needs.drift.outputs.marker != ''", "needs.drift.outputs.markers != ''"),
        # an unquoted variable in a script: shellcheck's SC2086
        ('echo "exit-code=$code" >> "$GITHUB_OUTPUT"', "echo exit-code=$code >> $GITHUB_OUTPUT"),
        # an input our composite action does not have
        ("package: ${{ vars.AIMODELS_PACKAGE }}", "pkg: ${{ vars.AIMODELS_PACKAGE }}"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    drift.write_text(text)
    linted = actionlint(root)
    assert linted.returncode == 1
    assert 'property "markers" is not defined' in linted.stdout
    assert "SC2086" in linted.stdout and "[shellcheck]" in linted.stdout
    assert 'input "pkg" is not defined in action "Set up aimodels"' in linted.stdout
    assert linted.stdout.count("aimodels-drift.yml:") == 4  # and nothing else: pkg is 2 errors


@pytest.mark.parametrize("step", list(run_steps()), ids=lambda step: step.where)
def test_every_script_is_clean_for_shellcheck_and_injects_no_expression(step: Step) -> None:
    # Values reach scripts through env: only, never as ${{ }} pasted into the script, so a
    # branch name or a marker cannot become shell code (GitHub's script-injection advice).
    assert "${{" not in step.script
    checked = shellcheck(step.script)
    assert (checked.returncode, checked.stdout) == (0, "")


def test_shellcheck_does_report_a_broken_script() -> None:
    checked = shellcheck('files=$RUNNER_TEMP/x\nrm -rf $files/*\n')
    assert checked.returncode == 1
    assert "SC2086" in checked.stdout


def test_the_workflows_are_the_three_flows() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == [
        "aimodels-apply.yml", "aimodels-drift.yml", "aimodels-plan.yml"]
