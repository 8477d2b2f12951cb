"""Tables for the read commands' lists (``models``, ``deployments``, ``uploads``), and the
helpers their detail views share (``render/details.py``).

Everything returns a string; whether it is coloured is the caller's choice (the CLI checks
the TTY, ``NO_COLOR`` and ``--no-color``). Cells are rich ``Text``, never markup, so a name
with brackets prints as it is. Without a terminal the width is generous, so pipes and files
get whole lines rather than wrapped cells.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.filesize import decimal
from rich.table import Table
from rich.text import Text

from aimodels.model.kinds import MODEL_DEPLOYMENT
from aimodels.service.catalog import ModelRow
from aimodels.service.deployments import DeploymentRow
from aimodels.service.uploads import Upload
from aimodels.service.uploads_prune import PruneReport, PruneSelection

#: Columns when the output is not a terminal (a pipe, a file, a test).
DEFAULT_WIDTH = 1000
#: The CATALOG column: where a model is listed, and so which kind deploys it.
CATALOG_TEXT = {"aiManager": "AI manager", "foundry": "Foundry", "registry": "registry"}
#: Marks a live resource this state manages (the ``M`` column).
MANAGED_MARK = "*"
NONE = "-"


def to_text(renderables: Iterable[RenderableType], *, color: bool = False,
            width: int | None = None) -> str:
    """Render to a string: ANSI styles only when ``color``; trailing spaces dropped."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or DEFAULT_WIDTH, force_terminal=color,
                      no_color=not color, color_system="standard" if color else None,
                      highlight=False, emoji=False, soft_wrap=False)
    for renderable in renderables:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


def to_json(value: Any) -> str:
    """Indented JSON for ``--output json`` (ASCII-only, so any terminal or pipe takes it)."""
    return json.dumps(value, indent=2)


def size_text(size: int | None) -> str:
    """``13.5 GB`` (decimal units, as the seeds print sizes), or ``-``."""
    return NONE if size is None else decimal(size)


def tokens_text(count: int | None) -> str:
    """A context length: ``128K`` for whole multiples of 1024 (131072), else the number
    (``128,000``: a round decimal count, as Foundry models give it, is not shown as 125K)."""
    if count is None:
        return NONE
    binary = count and count % 1024 == 0 and count % 1000 != 0
    return f"{count // 1024}K" if binary else f"{count:,}"


def when_text(iso: str | None) -> str:
    """``2026-02-03 10:30`` from an ISO timestamp, or ``-``."""
    return iso.replace("T", " ")[:16] if iso else NONE


def counted(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def table(*headers: str) -> Table:
    """The one table style of the read commands: a header rule, no vertical lines."""
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header in headers:
        grid.add_column(header, overflow="fold")
    return grid


def cells(*values: object) -> list[Text]:
    return [Text(NONE if v is None or v == "" else str(v)) for v in values]


def render_models(rows: Sequence[ModelRow], *, color: bool = False, width: int | None = None,
                  only: str | None = None) -> str:
    """``models list``: one table, a TYPE column, a summary line (``only``: the type the list
    was filtered to, if any)."""
    if not rows:
        return "No models found."
    grid = table("NAME", "TYPE", "CATALOG", "VERSION", "FORMAT", "SIZE", "CONTEXT", "LICENSE",
                 "STATUS", "CREATED", "M")
    for row in rows:
        grid.add_row(*cells(row.name, type_text(row.type), CATALOG_TEXT.get(row.catalog),
                            row.version, row.format,
                            size_text(row.size_bytes), tokens_text(row.context_length),
                            row.license, row.status, when_text(row.created_at)),
                     _managed_cell(row.managed_by))
    summary = found_line(len(rows), "model", [r.type for r in rows],
                         sum(bool(r.managed_by) for r in rows), only)
    return to_text([grid, Text(""), Text(summary)], color=color, width=width)


def type_text(model_type: str) -> str:
    """``Base`` or ``Custom``, as the seeds' tables print the type."""
    return model_type.capitalize()


def found_line(count: int, noun: str, types: Sequence[str], managed: int,
               only: str | None = None) -> str:
    """Seed 001's summary line: ``6 models found (4 base, 2 custom)``, or, filtered to one
    type (``only``), ``2 custom models found``. Managed rows are counted after it."""
    note = _managed_note(managed)
    if only:
        return f"{counted(count, f'{only} {noun}')} found" + (f" ({note[2:]})" if note else "")
    base = sum(t == "base" for t in types)
    return f"{counted(count, noun)} found ({base} base, {count - base} custom{note})"


def scale_text(row: DeploymentRow) -> str:
    """``ready/desired`` replicas (with the autoscale range) or the Foundry capacity."""
    if row.kind != MODEL_DEPLOYMENT:
        return NONE if row.capacity is None else str(row.capacity)
    ready = NONE if row.ready_replicas is None else str(row.ready_replicas)
    desired = NONE if row.replicas is None else str(row.replicas)
    text = f"{ready}/{desired}"
    if row.autoscale:
        low, high = row.autoscale
        text += f" ({low}-{high if high is not None else 'auto'})"
    return text


def model_text(row: DeploymentRow) -> str:
    return f"{row.model} {row.model_version}" if row.model_version else row.model


def render_deployments(rows: Sequence[DeploymentRow], *, color: bool = False,
                       width: int | None = None, only: str | None = None) -> str:
    """``deployments list``: both kinds in one table, a TYPE column (base or custom model),
    managed ones marked, a summary line (``only``: the type filtered to, if any)."""
    if not rows:
        return "No deployments found."
    grid = table("M", "NAME", "KIND", "MODEL", "TYPE", "SKU/VM SIZE", "CAPACITY/REPLICAS",
                 "STATE", "WHERE", "ENDPOINT")
    for row in rows:
        state = Text(row.state or NONE, style=_state_style(row.state))
        grid.add_row(_managed_cell(row.managed_by), *cells(row.name, row.kind),
                     *cells(model_text(row), type_text(row.model_type), row.sku,
                            scale_text(row)), state,
                     *cells(row.parent, row.endpoint))
    summary = found_line(len(rows), "deployment", [r.model_type for r in rows],
                         sum(bool(r.managed_by) for r in rows), only)
    return to_text([grid, Text(""), Text(summary)], color=color, width=width)


def render_uploads(uploads: Sequence[Upload], *, color: bool = False,
                   width: int | None = None) -> str:
    """``uploads list``: one row per upload folder, registered or orphaned, with sizes."""
    if not uploads:
        return "No uploads in the data store."
    grid = table("PATH", "FILES", "SIZE", "UPLOADED", "REGISTERED")
    for upload in uploads:
        registered = Text(", ".join(upload.registered_as) if upload.registered_as
                          else "no (orphaned)",
                          style="yellow" if upload.orphaned else "")
        grid.add_row(*cells(upload.path, len(upload.blobs), size_text(upload.size_bytes),
                            when_text(upload.uploaded_at)), registered)
    orphans = [u for u in uploads if u.orphaned]
    total = size_text(sum(u.size_bytes for u in uploads))
    lines: list[RenderableType] = [grid, Text(""), Text(
        f"{counted(len(uploads), 'upload')}, {total} ({len(orphans)} orphaned, "
        f"{size_text(sum(u.size_bytes for u in orphans))})")]
    if orphans:
        lines.append(Text("Orphaned uploads hold weights no custom model uses: kept by a delete "
                          "with deletePolicy KeepWeights, or never registered. `aimodels uploads "
                          "prune` deletes them."))
    return to_text(lines, color=color, width=width)


def _upload_rows(uploads: Sequence[Upload], why: Sequence[str] | None = None) -> Table:
    """Uploads as rows, with a WHY column when ``why`` gives one line per upload."""
    grid = table("PATH", "FILES", "SIZE", "UPLOADED", *(["WHY"] if why is not None else []))
    for index, upload in enumerate(uploads):
        extra = [why[index]] if why is not None else []
        grid.add_row(*cells(upload.path, len(upload.blobs), size_text(upload.size_bytes),
                            when_text(upload.uploaded_at), *extra))
    return grid


def render_prune_selection(selection: PruneSelection, *, color: bool = False,
                           width: int | None = None) -> str:
    """What ``uploads prune`` will delete, and the orphans it spares with why."""
    parts: list[RenderableType] = []
    if selection.doomed:
        parts += [Text(f"{counted(len(selection.doomed), 'orphaned upload')} will be deleted "
                       f"({size_text(selection.size_bytes)}):", style="bold"),
                  _upload_rows(selection.doomed)]
    else:
        parts.append(Text("Nothing to prune: no orphaned upload is old enough to delete."))
    if selection.spared:
        parts += [Text(""), Text(f"Spared ({len(selection.spared)}):", style="bold"),
                  _upload_rows([s.upload for s in selection.spared],
                               [s.reason for s in selection.spared])]
        if any("--min-age" in s.reason for s in selection.spared):
            parts.append(Text("--min-age 0 includes them."))
    return to_text(parts, color=color, width=width)


def render_prune_report(report: PruneReport, *, color: bool = False,
                        width: int | None = None) -> str:
    """What ``uploads prune`` deleted, and what it kept at the last moment."""
    parts: list[RenderableType] = [Text(
        f"Deleted {counted(len(report.deleted), 'upload')} ({size_text(report.size_bytes)}).")]
    if report.kept:
        parts += [Text(f"Kept {len(report.kept)}, changed since the listing:"),
                  _upload_rows([k.upload for k in report.kept], [k.reason for k in report.kept])]
    return to_text(parts, color=color, width=width)


def _managed_cell(address: str | None) -> Text:
    return Text(MANAGED_MARK if address else "")


def _managed_note(managed: int) -> str:
    return f"; {managed} managed by this state, marked {MANAGED_MARK}" if managed else ""


def _state_style(state: str) -> str:
    if state == "Succeeded":
        return "green"
    if state in ("Failed", "Canceled"):
        return "bold red"
    return "yellow"
