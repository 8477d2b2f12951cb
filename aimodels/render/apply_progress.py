"""Apply progress and the apply report, rendered from the executor's events and result.

On a TTY, ``ApplyProgress`` keeps a rich live table (one row per resource: what it is doing,
for how long, and why it waits or failed); elsewhere (CI logs, pipes) it prints one plain line
per event, ``10:02:11 ModelDeployment/chat: creating (12 s)``. A failure's message is shown
here, once, where it happens; the final report only counts and names.
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

_STYLES = {Phase.DONE: "green", Phase.FAILED: "red", Phase.SKIPPED: "yellow",
           Phase.WAITING: "yellow", Phase.POLLING: "cyan", Phase.STARTED: "cyan"}


def plain_line(event: ApplyEvent) -> str:
    """``HH:MM:SS Kind/name: creating (12 s)`` in local time."""
    return f"{time.strftime('%H:%M:%S', time.localtime(event.at))} {event.address}: " \
           f"{event.describe()}"


@dataclass(slots=True)
class _Row:
    """The latest event of one resource, and when its current step started."""

    event: ApplyEvent
    started: float


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
            started = event.at if event.phase is Phase.STARTED or row is None else row.started
            self._rows[key] = _Row(event, started)
        if not self.live:
            self.stream.write(plain_line(event) + "\n")
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
            table.add_row(key, Text(_state(event), style=_STYLES[event.phase]), shown,
                          event.message)
        return table


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
        lines.append("Skipped (upstream failed): " +
                     ", ".join(str(c.address) for c in result.skipped))
    for access in report.access:
        where = access.endpoint or "(on the embedded emulator, while an aimodels command runs)"
        lines += ["", f"{access.address}: {where}"] if lines else [f"{access.address}: {where}"]
        lines += [f"  try: {command}" for command in access.commands]
    return "\n".join(lines)
