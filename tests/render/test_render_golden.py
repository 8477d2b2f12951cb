"""Rendered plans compared with the reviewed files under golden/.

Regenerate with ``AIMODELS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/render`` and review
the diff like code. The variable is read at import: the autouse ``clean_environ`` fixture
removes every ``AIMODELS_*`` variable before each test runs.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from render_plans import CASES

from aimodels.render.plan import render_plan

UPDATE = os.environ.get("AIMODELS_UPDATE_GOLDEN") == "1"
GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"txt": "text", "json": "json", "md": "markdown"}

PARAMS = [pytest.param(case, ext, id=f"{case}.{ext}")
          for case, (_, exts) in CASES.items() for ext in exts]


@pytest.mark.parametrize(("case", "ext"), PARAMS)
def test_rendered_plan_matches_its_golden_file(case: str, ext: str) -> None:
    build, _ = CASES[case]
    rendered = render_plan(build(), FORMATS[ext]) + "\n"  # as click.echo prints it
    path = GOLDEN / f"{case}.{ext}"
    if UPDATE:
        path.write_text(rendered, encoding="utf-8")
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    assert rendered == expected, _diff(expected, rendered, path)


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {f"{case}.{ext}" for case, (_, exts) in CASES.items() for ext in exts}
    assert {p.name for p in GOLDEN.iterdir()} == expected


def _diff(expected: str, rendered: str, path: Path) -> str:
    lines = difflib.unified_diff(expected.splitlines(), rendered.splitlines(),
                                 f"{path.name} (golden)", f"{path.name} (rendered)", lineterm="")
    shown = list(lines)[:80]
    return ("rendered output differs from the golden file; if the change is intended, run with "
            "AIMODELS_UPDATE_GOLDEN=1 and review the diff:\n" + "\n".join(shown))
