"""Golden loader cases: one test per folder of tests/manifest/cases/.

Each case folder holds manifest files and ``expected.txt``: for ``bad-*`` cases, exactly what
``aimodels validate`` prints on stderr (paths relative to the case folder); for ``good-*`` cases,
the desired state the loader built and its warnings. An optional ``case.json`` sets ``paths``
(the -f list, default ["."]), ``env`` and ``strict_env``. Regenerate after a deliberate change
with ``AIMODELS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/manifest/test_loader_cases.py`` and
review the diff like code.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from aimodels.errors import ManifestError
from aimodels.manifest.load import LoadResult, StackHook, load_manifests
from aimodels.model.desired import Stack
from aimodels.render.diagnostics import format_diagnostics, print_error

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
UPDATE = os.environ.get("AIMODELS_UPDATE_GOLDEN") == "1"


def case_config(case: Path) -> dict[str, Any]:
    config_file = case / "case.json"
    return json.loads(config_file.read_text()) if config_file.exists() else {}


def render_success(result: LoadResult) -> str:
    desired = result.desired
    count = len(desired.resources)
    lines = [f"valid: {count} resource{'' if count == 1 else 's'}, Stack {desired.stack.name} "
             f"(target {desired.stack.target}) from {desired.stack.source}",
             f"files: {', '.join(desired.files)}"]
    for address, res in desired.resources.items():
        lines.append(f"{address}  ({res.source})")
        lines.append(f"  spec: {json.dumps(res.spec, sort_keys=True)}")
        if res.labels:
            lines.append(f"  labels: {json.dumps(dict(res.labels), sort_keys=True)}")
        if res.lifecycle.prevent_destroy or res.lifecycle.ignore_changes:
            lines.append(f"  lifecycle: preventDestroy={res.lifecycle.prevent_destroy} "
                         f"ignoreChanges={list(res.lifecycle.ignore_changes)}")
    if result.warnings:
        lines += ["", format_diagnostics(result.warnings)]
    return "\n".join(lines) + "\n"


def run_case(case: Path, on_stack: StackHook | None = None) -> tuple[str, bool]:
    """The rendered outcome of a case (cwd must be the case folder) and whether it failed."""
    config = case_config(case)
    try:
        result = load_manifests(config.get("paths", ["."]), env=config.get("env", {}),
                                strict_env=config.get("strict_env", False), on_stack=on_stack)
    except ManifestError as exc:
        out = io.StringIO()
        print_error(exc, out)
        return out.getvalue(), True
    return render_success(result), False


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    actual, failed = run_case(case)
    expected_file = case / "expected.txt"
    if UPDATE:
        expected_file.write_text(actual)
    assert expected_file.exists(), f"no expected.txt: run with AIMODELS_UPDATE_GOLDEN=1 ({case})"
    assert actual == expected_file.read_text()
    assert failed == case.name.startswith("bad-"), "bad-* cases fail, good-* cases load"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_early_stack_hook_changes_nothing(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # plan hands the Stack over early (to start its reads): same output, and the Stack handed
    # over is the one of the result whenever the set is valid.
    monkeypatch.chdir(case)
    handed: list[Stack] = []
    actual, failed = run_case(case, on_stack=handed.append)
    assert actual == (case / "expected.txt").read_text()
    assert len(handed) <= 1
    if not failed:
        config = case_config(case)
        desired = load_manifests(config.get("paths", ["."]), env=config.get("env", {}),
                                 strict_env=config.get("strict_env", False)).desired
        assert handed == [desired.stack]


def test_the_stack_is_handed_over_before_the_other_files_are_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aimodels.manifest import load

    (tmp_path / "a-sources.yaml").write_text("".join(
        f"---\napiVersion: aimodels/v1\nkind: ModelSource\nmetadata: {{name: src-{i}}}\n"
        "spec: {sourceType: HuggingFace}\n" for i in range(3)))
    (tmp_path / "z-stack.yaml").write_text(
        "apiVersion: aimodels/v1\nkind: Stack\nmetadata: {name: s}\n"
        "spec: {target: local, subscriptionId: 00000000-0000-0000-0000-000000000000,\n"
        "       resourceGroup: rg, location: eastus, aiManager: m}\n")
    read: list[str] = []
    real = load.read_documents
    monkeypatch.setattr(load, "read_documents",
                        lambda item: (read.append(item.path.name), real(item))[1])
    read_when_handed: list[list[str]] = []
    result = load_manifests([str(tmp_path)], env={}, strict_env=True,
                            on_stack=lambda stack: read_when_handed.append(list(read)))
    assert read_when_handed == [["z-stack.yaml"]]
    # The documents keep the order of the files all the same.
    assert [a.name for a in result.desired.resources] == ["src-0", "src-1", "src-2"]
    assert result.desired.files[-1].endswith("z-stack.yaml")


def test_there_are_at_least_30_distinct_bad_cases() -> None:
    bad = [c for c in CASES if c.name.startswith("bad-")]
    assert len(bad) >= 30
    outputs = {(c / "expected.txt").read_text() for c in bad}
    assert len(outputs) == len(bad), "each bad case shows a different mistake"
