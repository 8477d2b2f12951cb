"""`apply PLANFILE` on a plan file that is not what `plan --out` wrote: an edit, a forged digest
that deletes a protected resource, an unknown formatVersion, a damaged document. Each is
refused with exit 6 (never 70) before anything changes in Azure or in the state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_support import Cli, arm, deployment_path

from aimodels.plan.planfile import document_digest

PHI4 = "ModelDeployment/phi4-chat"


@pytest.fixture
def protected_plan(cli: Cli, stack: Path, tmp_path: Path) -> Path:
    """The quickstart applied with phi4-chat under lifecycle.preventDestroy, and a plan of no
    changes saved after."""
    manifest = stack / "model-deployment.yaml"
    manifest.write_text(manifest.read_text() + "  lifecycle: {preventDestroy: true}\n")
    cli.applied()
    saved = tmp_path / "plan.json"
    planned = cli("plan", "--out", str(saved))
    assert planned.code == 0, planned.text
    return saved


def forge(path: Path, edit: Callable[[dict[str, Any]], None], *, redigest: bool) -> None:
    document = json.loads(path.read_text())
    edit(document)
    if redigest:  # what someone who knows the format does: the digest is no signature
        document["digest"] = document_digest(document)
    path.write_text(json.dumps(document, indent=2))


def delete_phi4(document: dict[str, Any]) -> None:
    change = next(c for c in document["changes"] if c["address"] == PHI4)
    change.update(action="delete", after=None, reasons=["delete_because_not_in_manifest"])


@pytest.mark.parametrize(("edit", "redigest", "expected"), [
    pytest.param(delete_phi4, True,
                 f"refused: {PHI4} has lifecycle.preventDestroy, and this plan would "
                 "delete it; nothing was changed", id="forged-digest"),
    pytest.param(delete_phi4, False, "was changed after `aimodels plan` wrote it",
                 id="edited"),
    pytest.param(lambda d: d.update(formatVersion="99"), True, "has formatVersion '99'",
                 id="format-99"),
    pytest.param(lambda d: d.update(changes="x"), True, "is damaged at changes",
                 id="changes-x"),
])
def test_a_plan_file_not_as_written_is_refused_and_nothing_changes(
        cli: Cli, stack: Path, protected_plan: Path, outside: httpx.Client,
        edit: Callable[[dict[str, Any]], None], redigest: bool, expected: str) -> None:
    state_before = (stack / ".aimodels" / "state.json").read_bytes()
    forge(protected_plan, edit, redigest=redigest)

    refused = cli("apply", str(protected_plan))

    assert refused.code == 6, refused.text
    assert expected in refused.err
    assert "Traceback" not in refused.text and "internal error" not in refused.text
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 200
    assert (stack / ".aimodels" / "state.json").read_bytes() == state_before


def test_the_unedited_plan_still_applies(cli: Cli, protected_plan: Path) -> None:
    applied = cli("apply", str(protected_plan))
    assert applied.code == 0, applied.text
    assert applied.out.strip() == "No changes."
