"""Golden plan cases: one test per file under tests/plan/cases/<kind>/ (pyinfra style)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plan_cases import load_case

from aimodels.errors import Severity
from aimodels.plan.planner import make_plan
from aimodels.plan.values import SENSITIVE_VALUE, Change, Plan
from aimodels.providers.registry import default_registry

CASES = sorted((Path(__file__).parent / "cases").glob("*/*.yaml"))


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", [pytest.param(p, id=_case_id(p)) for p in CASES])
def test_plan_case(path: Path) -> None:
    case = load_case(path)
    plan = make_plan(case["desired"], case["live"], case["prior"], registry=default_registry(),
                     replace=case["replace"],
                     targets=case["targets"], inputs=case["inputs"],
                     destroy=bool(case["expected"].get("destroy")))
    expected = case["expected"]
    _check_changes(plan, expected.get("changes") or [])
    _check_diagnostics(plan, Severity.ERROR, expected.get("errors") or [])
    _check_diagnostics(plan, Severity.WARNING, expected.get("warnings") or [])
    if "applyable" in expected:
        assert plan.applyable is expected["applyable"]
    _check_never_leaks(plan, expected)


def test_there_are_enough_cases_for_every_kind() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds == {"modelsource", "custommodel", "modeldeployment", "foundrydeployment"}
    assert len(CASES) >= 25


def _check_changes(plan: Plan, expected: list[dict[str, Any]]) -> None:
    assert [str(c.address) for c in plan.changes] == [e["address"] for e in expected]
    for change, want in zip(plan.changes, expected, strict=True):
        _check_change(change, want)


def _check_change(change: Change, want: dict[str, Any]) -> None:
    assert change.action.value == want["action"], change.address
    assert [r.value for r in change.reasons] == want.get("reasons", []), change.address
    assert sorted(f.path for f in change.field_changes) == sorted(want.get("fields", []))
    assert list(change.replace_paths) == want.get("replacePaths", [])
    sensitive = sorted(f.path for f in change.field_changes if f.sensitive)
    assert sensitive == sorted(want.get("sensitive", []))
    for key, attr in (("dependsOn", "depends_on"),):
        if key in want:
            assert [str(a) for a in getattr(change, attr)] == want[key]
    for key in ("preconditionEtag", "resourceId", "liveResourceId"):
        if key in want:
            assert change.to_dict()[key] == want[key], key
    for key in ("after", "before"):
        if key in want:
            assert _subset(want[key], change.to_dict()[key]), (key, change.to_dict()[key])
    for text in want.get("warnings", []):
        assert any(text in w for w in change.warnings), change.warnings
    assert list(change.retires) == want.get("retires", []), change.address
    for text in want.get("notes", []):
        assert any(text in n for n in change.notes), change.notes


def _check_diagnostics(plan: Plan, severity: Severity, expected: list[str]) -> None:
    found = [d.summary for d in plan.diagnostics if d.severity is severity]
    assert len(found) == len(expected), found
    for text in expected:
        assert any(text in summary for summary in found), (text, found)
    if severity is Severity.ERROR and expected:
        assert plan.errored and not plan.applyable


def _check_never_leaks(plan: Plan, expected: dict[str, Any]) -> None:
    """No secret-looking value reaches the plan; sensitive fields carry only the marker."""
    text = json.dumps(plan.to_dict(), sort_keys=True)
    for secret in expected.get("secretsNeverShown", []):
        assert secret not in text
    for change in plan.changes:
        for field in change.field_changes:
            if field.sensitive:
                assert {field.before, field.after} <= {None, SENSITIVE_VALUE}


def _subset(want: Any, got: Any) -> bool:
    """Whether every key of ``want`` is in ``got`` with the same value (recursively)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _subset(v, got[k])
                                              for k, v in want.items())
    return want == got
