"""Apply progress and the apply report, rendered from the executor's events and result.

On a TTY, ``ApplyProgress`` keeps a rich live table (one row per resource: what it is doing,
for how long, and why it waits or failed); elsewhere (CI logs, pipes) it prints one plain line
per event, ``10:02:11 ModelDeployment/chat: creating (12 s)``. A failure's message is shown
here, once, where it happens; the final report only counts and names.

Uploads (events carrying a ``Transfer``) show percent, bytes, speed, elapsed and ETA, as
docs/uploads.md shows: on a TTY in the table's detail column, with a bar; elsewhere as a line
when the upload starts, a "still uploading" line every ``still_every`` seconds (30) instead of the
ticks, and a line when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aimodels.apply.events import ApplyEvent, Phase
from aimodels.apply.transfer import Transfer
from aimodels.weights.units import human_duration, human_size

#: Off a terminal, how often a running upload says it is still running (30 s, docs/uploads.md).
STILL_EVERY = 30.0
_BAR = 20

_STYLES = {Phase.DONE: "green", Phase.FAILED: "red", Phase.SKIPPED: "yellow",
           Phase.WAITING: "yellow", Phase.POLLING: "cyan", Phase.STARTED: "cyan"}


def plain_line(event: ApplyEvent) -> str:
    """``HH:MM:SS Kind/name: creating (12 s)`` in local time."""
    return f"{time.strftime('%H:%M:%S', time.localtime(event.at))} {event.address}: " \
           f"{event.describe()}"


@dataclass(slots=True)
class _Row:
    """The latest event of one resource, when its current step started, its latest upload
    moment (``transfer``) and when a line about that upload was last printed."""

    event: ApplyEvent
    started: float
    transfer: Transfer | None = None
    printed: float | None = None
    ended: bool = False


class ApplyProgress:
    """An ``on_event`` sink that shows progress; use as a context manager around the apply.

    ``live`` picks the rich table (default: when ``stream`` is a TTY). Events may arrive from
    the event loop while rich refreshes from its own thread, so rows are guarded by a lock.
    """

    def __init__(self, stream: IO[str], *, live: bool | None = None, color: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.clock = clock
        self._console = Console(file=stream, no_color=not color, highlight=False)
        self._rows: dict[str, _Row] = {}
        self._guard = threading.Lock()
        self._display: Live | None = None

    def __enter__(self) -> ApplyProgress:
        if self.live:
            self._display = Live(get_renderable=self.table, console=self._console,
                                 refresh_per_second=4, transient=False)
            self._display.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._display is not None:
            self._display.stop()

    def __call__(self, event: ApplyEvent) -> None:
        key = str(event.address)
        with self._guard:
            row = self._rows.get(key)
            if event.phase is Phase.STARTED or row is None:
                row = _Row(event, event.at)
            row = _Row(event, row.started, event.transfer or row.transfer, row.printed,
                       row.ended)
            self._rows[key] = row
            line = _upload_line(row) if _uploading(row) else plain_line(event)
        if not self.live and line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    def table(self) -> Table:
        """The live table: resource, state, elapsed, detail."""
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("Resource", "State", "Elapsed", "Detail"):
            table.add_column(column, overflow="fold")
        now = self.clock()
        with self._guard:
            rows = sorted(self._rows.items())
        for key, row in rows:
            event = row.event
            elapsed = event.elapsed if event.phase.is_final else now - row.started
            shown = "" if event.phase is Phase.SKIPPED else f"{elapsed:.0f} s"
            detail = _bar(row.transfer) if _uploading(row) and row.transfer else event.message
            table.add_row(key, Text(_state(event), style=_STYLES[event.phase]), shown, detail)
        return table


def _uploading(row: _Row) -> bool:
    """True while the row's step moves weights and the event says nothing else (a tick or
    a transfer; a note, a failure or the end print as usual)."""
    event = row.event
    return row.transfer is not None and event.phase is Phase.POLLING and \
        (event.transfer is not None or not event.message) and \
        (event.transfer is not None or not row.transfer.finished)


def _upload_line(row: _Row) -> str | None:
    """The plain line for an upload event, or None to stay quiet: the first moment, every
    ``STILL_EVERY`` seconds after it, and the end."""
    event, transfer = row.event, row.transfer
    assert transfer is not None
    stamp = f"{time.strftime('%H:%M:%S', time.localtime(event.at))} {event.address}: "
    verb = "copied" if transfer.copied else "uploaded"
    if transfer.finished and event.transfer is not None:
        if row.ended:
            return None
        row.printed, row.ended = event.at, True
        speed = f", {human_size(transfer.speed)}/s" if transfer.speed else ""
        earlier = f", {human_size(transfer.resumed)} of it from an earlier run" \
            if transfer.resumed and not transfer.copied else ""
        return f"{stamp}{verb} {human_size(transfer.total)} in " \
               f"{human_duration(transfer.seconds)}{speed}{earlier}"
    if row.printed is None:
        row.printed = event.at
        return f"{stamp}uploading {transfer.describe()}"
    if event.at - row.printed < STILL_EVERY:
        return None
    row.printed = event.at
    return f"{stamp}[{human_duration(event.elapsed)}] still uploading: " \
           f"{transfer.describe(elapsed=False)}"


def _bar(transfer: Transfer) -> str:
    """``━━━━━━━╸            34% (23.3 GB / 68.5 GB), 142.0 MB/s, ...`` for the live table."""
    filled = int(_BAR * transfer.percent / 100)
    return "━" * filled + " " * (_BAR - filled) + " " + transfer.describe()


def _state(event: ApplyEvent) -> str:
    """The state column: ``creating``, ``waiting``, ``created``, ``create failed``, ``skipped``."""
    if event.phase is Phase.FAILED:
        return f"{event.operation} failed"
    if event.phase is Phase.SKIPPED:
        return "skipped"
    if event.phase is Phase.WAITING:
        return "waiting"
    return event.describe().split(" (")[0]


def render_report(report: Any, *, summary: bool = True, verb: str = "Apply") -> str:
    """After apply: the summary line (unless the caller reports it as an error), what failed
    or was skipped, then each deployment's endpoint and commands to try it. ``report`` is a
    ``service.applying.ApplyReport``."""
    result = report.result
    lines = [result.summary(verb)] if summary else []
    if result.failed:
        lines.append("Failed: " + ", ".join(str(c.address) for c in result.failed))
    if result.skipped:
        upstream = "failed or still running" if result.in_flight else "failed"
        lines.append(f"Skipped (upstream {upstream}): " +
                     ", ".join(str(c.address) for c in result.skipped))
    for access in report.access:
        where = access.endpoint or "(on the embedded emulator, while an aimodels command runs)"
        lines += ["", f"{access.address}: {where}"] if lines else [f"{access.address}: {where}"]
        lines += [f"  try: {command}" for command in access.commands]
    return "\n".join(lines)
