"""``Transfer``: how far one upload has come, as apply's progress events carry it.

The uploader measures, the renderer shows (percent, bytes, speed, elapsed, ETA: docs/uploads.md).
Bytes found already in the service from an interrupted run count as done but not as sent, so
the speed and the ETA are those of this run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from aimodels.weights.units import human_duration, human_size


@dataclass(frozen=True, slots=True)
class Transfer:
    """One upload at one moment. ``total`` bytes to hold in the end; ``resumed`` of them were
    staged by an earlier run (not sent again); ``sent`` by this run in ``seconds``; ``copied``
    is True for a server-side copy (no byte leaves this machine)."""

    total: int
    sent: int = 0
    resumed: int = 0
    seconds: float = 0.0
    copied: bool = False

    @property
    def done(self) -> int:
        return min(self.total, self.resumed + self.sent)

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.done / self.total

    @property
    def speed(self) -> float | None:
        """Bytes per second sent by this run, once there is something to measure."""
        return self.sent / self.seconds if self.sent and self.seconds > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed."""
        speed = self.speed
        return (self.total - self.done) / speed if speed else None

    def describe(self, elapsed: bool = True) -> str:
        """``34% (23.3 GB / 68.5 GB), 142.0 MB/s, elapsed 2m 45s, ETA 5m 20s``."""
        parts = [f"{self.percent:.0f}% ({human_size(self.done)} / {human_size(self.total)})"]
        if self.speed:
            parts.append(f"{human_size(self.speed)}/s")
        if elapsed:
            parts.append(f"elapsed {human_duration(self.seconds)}")
        if self.eta is not None and not self.finished:
            parts.append(f"ETA {human_duration(self.eta)}")
        if self.resumed:
            parts.append(f"{human_size(self.resumed)} resumed")
        return ", ".join(parts)


class TransferMeter:
    """Counts the bytes an upload's worker threads send and reports a ``Transfer`` at most
    every ``every`` seconds (and whenever forced: at the start and the end)."""

    def __init__(self, start: Transfer, report: Callable[[Transfer], None], every: float,
                 clock: Callable[[], float]) -> None:
        self.start, self.report, self.every, self.clock = start, report, every, clock
        self.began = clock()
        self.sent = 0
        self.last = float("-inf")
        self.lock = threading.Lock()

    def moment(self) -> Transfer:
        return Transfer(self.start.total, self.sent, self.start.resumed, self.clock() - self.began)

    def add(self, count: int) -> None:
        with self.lock:
            self.sent += count
        self.emit()

    def emit(self, force: bool = False) -> None:
        with self.lock:
            now = self.clock()
            if not force and now - self.last < self.every:
                return
            self.last = now
            moment = self.moment()
        self.report(moment)
