"""``aimodels import`` for people: what will be adopted, and the next plan's change for it.

The change is rendered exactly as ``plan`` renders it (``render_text``), under a line saying
that import itself changes nothing in Azure. No I/O: the results are strings.
"""

from __future__ import annotations

from aimodels.plan.values import Action
from aimodels.render.plan_text import render_text
from aimodels.service.importing import ImportPreview


def render_import_preview(preview: ImportPreview, *, color: bool = False) -> str:
    """The resource to adopt, then the plan that would follow the import; no trailing newline."""
    entry, change = preview.entry, preview.change
    etag = f" (ETag {entry.etag})" if entry.etag else ""
    lines = [f"Import {change.address} from {entry.resource_id}{etag}.", ""]
    if change.action is Action.NOOP and not preview.plan.diagnostics:
        lines.append("The manifest matches the live resource: after the import, "
                     "`aimodels plan` shows no change for it.")
    else:
        lines += ["After the import, `aimodels plan` would show this for it (import itself "
                  "changes nothing in Azure):", "", render_text(preview.plan, color=color)]
    lines += [f"note: {note}" for note in preview.notes]
    return "\n".join(lines)


def render_imported(preview: ImportPreview, state_file: str) -> str:
    """The closing line after the state was written."""
    change = preview.change
    then = "`aimodels plan` shows no change for it." if change.action is Action.NOOP else \
        "`aimodels plan` shows the differences above; `aimodels apply` makes the live " \
        "resource match the manifest."
    return f"Imported {change.address} into the state ({state_file}). {then}"
