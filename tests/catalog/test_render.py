"""The read commands' renderers: sizes, token counts, scale columns, colour only when asked,
and cells that print names literally (rich markup in a name is not interpreted)."""

from __future__ import annotations

import pytest

from aimodels.blob.listing import StoredBlob
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.render.tables import (
    render_deployments,
    render_models,
    render_prune_report,
    render_prune_selection,
    scale_text,
    size_text,
    tokens_text,
    when_text,
)
from aimodels.service.catalog import ModelRow
from aimodels.service.deployments import DeploymentRow
from aimodels.service.uploads import Upload
from aimodels.service.uploads_prune import PruneReport, PruneSelection, Spared


def _row(**fields: object) -> DeploymentRow:
    base: dict[str, object] = {"name": "d", "kind": MODEL_DEPLOYMENT, "model": "m", "sku": "s",
                               "state": "Succeeded", "endpoint": "", "resource_id": "/x",
                               "ai_manager": "aim", "namespace": "prod"}
    return DeploymentRow(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(("fields", "text"), [
    ({"replicas": 2, "ready_replicas": 1}, "1/2"),
    ({"replicas": 1, "ready_replicas": 1, "autoscale": (1, 4)}, "1/1 (1-4)"),
    ({"replicas": 1, "autoscale": (1, None)}, "-/1 (1-auto)"),
    ({"kind": FOUNDRY_DEPLOYMENT, "capacity": 150, "account": "a"}, "150"),
    ({"kind": FOUNDRY_DEPLOYMENT, "account": "a"}, "-"),
])
def test_scale_column(fields: dict[str, object], text: str) -> None:
    assert scale_text(_row(**fields)) == text


def test_units() -> None:
    assert (size_text(None), size_text(13_500_000_000), size_text(5)) == \
        ("-", "13.5 GB", "5 bytes")
    assert (tokens_text(131072), tokens_text(4000), tokens_text(None)) == ("128K", "4,000", "-")
    assert (tokens_text(128000), tokens_text(8192)) == ("128,000", "8K")
    assert (when_text("2026-02-03T10:30:45Z"), when_text(None)) == ("2026-02-03 10:30", "-")


def test_names_print_literally_and_colour_only_when_asked() -> None:
    rows = [ModelRow(name="[bold]odd[/bold]", type="custom", status="Ready")]
    plain = render_models(rows)
    assert "[bold]odd[/bold]" in plain and "\x1b[" not in plain
    coloured = render_deployments([_row(state="Failed")], color=True)
    assert "\x1b[" in coloured
    assert "\x1b[" not in render_deployments([_row(state="Failed")])


def test_empty_lists_say_so() -> None:
    assert render_models([]) == "No models found."
    assert render_deployments([]) == "No deployments found."


def test_prune_views_list_what_goes_and_what_stays_with_why() -> None:
    blob = StoredBlob("m/1/w", 30, "2026-01-01T00:00:00Z", {})
    gone = Upload("uploads/m/1/", "m/1/", (blob,), ())
    kept = Upload("uploads/n/2/", "n/2/", (StoredBlob("n/2/w", 5, "2026-01-01T00:00:00Z", {}),),
                  ())
    selection = render_prune_selection(PruneSelection((gone,), (Spared(kept, "too young"),)))
    lines = selection.splitlines()
    assert lines[0] == "1 orphaned upload will be deleted (30 bytes):"
    assert lines[1].split() == ["PATH", "FILES", "SIZE", "UPLOADED"]
    assert "Spared (1):" in lines and lines[-1].endswith("too young")
    report = render_prune_report(PruneReport((gone,), (Spared(kept, "kept: registered"),)))
    assert report.splitlines()[0] == "Deleted 1 upload (30 bytes)."
    assert report.splitlines()[1] == "Kept 1, changed since the listing:"
    assert report.splitlines()[-1].endswith("kept: registered")
