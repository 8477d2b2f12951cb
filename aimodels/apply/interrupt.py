"""Stopping an apply on Ctrl-C without losing track of what was sent.

A *flight* is one step's write from its journal intent to its last state write. Once its
operation runs in Azure, the LRO handle is added to the journal (the intent is *amended*), and
from then on the flight can be let go at any moment: the next apply re-attaches to it. On a
stop request, ``Flights.land_all`` lets the flights that are only waiting (their handle is in the
journal, or they wait to retry a refused write) go at once, waits up to the grace period for
the others to be answered, then cancels whatever is left. Nothing new takes off once a stop is
requested. A cancelled flight's intent stays
open in the journal: the next apply reconciles it (``apply.recovery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aimodels.plan.graph import Step

T = TypeVar("T")

#: How long Ctrl-C waits for the calls in flight to be answered.
DEFAULT_GRACE = 10.0


class Parked(enum.Enum):
    """Why a flight need not be waited for when stopping."""

    NO = "no"
    JOURNALED = "journaled"  # its operation runs in Azure and the handle is in the journal
    RETRYING = "retrying"  # waits to retry a write Azure refused (nothing of it is in flight)


class FlightCancelled(Exception):
    """A flight was let go by a stop request; ``parked`` says what it was doing then."""

    def __init__(self, parked: Parked) -> None:
        super().__init__(parked.value)
        self.parked = parked


@dataclass(eq=False)
class Flight:
    """One step's write under way: its open journal intent and that intent's ``details``
    (replaced by an amended intent once the LRO handle is journaled), and the task sending it."""

    step: Step
    intent: str
    details: Mapping[str, Any]
    parked: Parked = Parked.NO
    task: asyncio.Future[Any] | None = None
    amending: asyncio.Task[str] | None = field(default=None, repr=False)

    async def run(self, write: Awaitable[T]) -> T:
        """Send ``write`` as a task a stop request can cancel (then FlightCancelled)."""
        task = asyncio.ensure_future(write)
        self.task = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not task.cancelled() or (current is not None and current.cancelling()):
                raise  # the whole run is being torn down, not just this flight
            raise FlightCancelled(self.parked) from None

    async def intent_id(self) -> str:
        """The open intent, once any amendment in progress is written."""
        if self.amending is not None:
            self.intent = await self.amending
            self.amending = None
        return self.intent


class Flights:
    """Every flight of a run, and the stop request (``stop``, set by Ctrl-C) they obey."""

    def __init__(self, stop: asyncio.Event | None = None) -> None:
        self._flights: dict[Step, Flight] = {}
        self._stop = stop or asyncio.Event()
        self._quiet = asyncio.Event()

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested: from then on nothing new is sent."""
        return self._stop.is_set()

    def get(self, step: Step) -> Flight | None:
        return self._flights.get(step)

    def take_off(self, step: Step, intent: str, details: Mapping[str, Any]) -> Flight | None:
        """Register the flight of ``step``; None when a stop was requested (send nothing)."""
        if self.stopping:
            return None
        flight = self._flights[step] = Flight(step, intent, details)
        return flight

    def park(self, step: Step, why: Parked) -> None:
        """Mark a flight as safe to let go (``why``), or as sending again (``Parked.NO``)."""
        flight = self._flights.get(step)
        if flight is not None:
            flight.parked = why
            self._check_quiet()

    def land(self, step: Step) -> None:
        """The flight of ``step`` is over (done, failed or cancelled)."""
        self._flights.pop(step, None)
        self._check_quiet()

    def unanswered(self) -> int:
        """How many flights a stop has to wait for."""
        return sum(f.parked is Parked.NO for f in self._flights.values())

    async def land_all(self, grace: float) -> None:
        """Once stopping: let go the parked flights now, the others once answered or after
        ``grace`` seconds."""
        for flight in list(self._flights.values()):
            if flight.parked is not Parked.NO:
                _cancel(flight)
        self._check_quiet()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), grace)
        for flight in list(self._flights.values()):
            _cancel(flight)

    def _check_quiet(self) -> None:
        if not self.stopping:
            return
        for flight in self._flights.values():
            if flight.parked is not Parked.NO:
                _cancel(flight)
        if not self.unanswered():
            self._quiet.set()


def _cancel(flight: Flight) -> None:
    if flight.task is not None and not flight.task.done():
        flight.task.cancel()
