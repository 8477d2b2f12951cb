"""What apply reports while it runs (``ApplyEvent``) and what it returns (``ApplyResult``).

The executor never prints: it calls ``on_event`` with these values and the renderer
(``aimodels.render.apply_progress``) decides what a person sees. Events and results never carry
a secret: messages come from our errors, which name methods and paths, never bodies.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aimodels.apply.transfer import Transfer
from aimodels.errors import AimodelsError, ConflictError
from aimodels.model.address import ResourceAddress
from aimodels.plan.values import Action


class Phase(enum.Enum):
    """Where one step of apply stands. ``WAITING`` is a step held back by Azure (another write
    on the same Cognitive Services account); ``POLLING`` a step whose operation runs in Azure."""

    STARTED = "started"
    WAITING = "waiting"
    POLLING = "polling"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self in (Phase.DONE, Phase.FAILED, Phase.SKIPPED)


#: How a running operation is described (``creating``), and a finished one (``created``).
_PROGRESSIVE = {"create": "creating", "update": "updating", "delete": "deleting",
                "forget": "forgetting", "record": "recording the lifecycle",
                "retire": "deleting old versions"}
_PAST = {"create": "created", "update": "updated", "delete": "deleted",
         "forget": "dropped from the state", "record": "lifecycle recorded in the state",
         "retire": "old versions deleted"}


@dataclass(frozen=True, slots=True)
class ApplyEvent:
    """One moment of one step: ``operation`` (create, update, delete, forget, record) on
    ``address``.

    ``elapsed`` counts seconds since the step started (0 for STARTED and SKIPPED); ``message``
    explains a WAITING, FAILED or SKIPPED step, or says what a POLLING step waits for.
    ``transfer`` is set on a POLLING event of a step moving weights (bytes, speed, ETA).
    """

    address: ResourceAddress
    operation: str
    phase: Phase
    at: float
    elapsed: float = 0.0
    message: str = ""
    transfer: Transfer | None = None

    def describe(self) -> str:
        """``creating``, ``creating (12 s)``, ``created (35 s)``, ``create failed: ...``,
        ``skipped: ...``."""
        seconds = f" ({self.elapsed:.0f} s)"
        if self.phase is Phase.DONE:
            return _PAST[self.operation] + seconds
        if self.phase is Phase.FAILED:
            return f"{self.operation} failed: {self.message}"
        if self.phase is Phase.SKIPPED:
            return f"skipped: {self.message}"
        if self.phase is Phase.STARTED:
            return _PROGRESSIVE[self.operation]
        detail = f": {self.message}" if self.message else ""
        if self.transfer is not None:
            detail = f": {'copied' if self.transfer.copied else 'uploading'} " \
                     f"{self.transfer.describe()}"
        return f"{_PROGRESSIVE[self.operation]}{seconds}{detail}"


#: What the executor calls with each event; must return quickly and never raise.
EventSink = Callable[[ApplyEvent], None]


class Status(enum.Enum):
    """How one change ended. ``NOT_STARTED`` only happens when apply is interrupted (Ctrl-C):
    a change never sent. ``IN_FLIGHT`` is a change sent whose outcome the journal keeps for
    the next apply to reconcile: interrupted, or its operation still running in Azure at
    the LRO deadline."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_STARTED = "not started"
    IN_FLIGHT = "in flight"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """How one change of the plan ended.

    ``message`` is the failure (once, at the change that failed) or the skip reason (naming
    the upstream address); ``error`` keeps the original error for exit-code decisions.
    ``body`` is the final live body of a create or update (for endpoints in the summary);
    never print it whole.
    """

    address: ResourceAddress
    action: Action
    status: Status
    message: str = ""
    elapsed: float = 0.0
    error: AimodelsError | None = field(default=None, compare=False)
    body: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Interruption:
    """Apply was asked to stop (Ctrl-C): it starts nothing new and waits up to ``grace``
    seconds for ``waiting_for`` calls sent to Azure to be answered."""

    waiting_for: int
    grace: float

    def describe(self) -> str:
        wait = (f"waiting up to {self.grace:.0f} s for {self.waiting_for} call(s) in flight "
                "to be answered" if self.waiting_for else "no call is waiting for an answer")
        return (f"Interrupted: no new change starts; {wait}. Press Ctrl-C again to stop at "
                "once (the journal keeps what is in flight for the next apply).")


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """Every change of an apply run, sorted by address, split by how it ended.
    ``interrupted`` is set when the run was asked to stop (Ctrl-C) before its end."""

    changes: tuple[ChangeResult, ...] = ()
    interrupted: bool = False

    def _with(self, status: Status) -> tuple[ChangeResult, ...]:
        return tuple(c for c in self.changes if c.status is status)

    @property
    def done(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.DONE)

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.FAILED)

    @property
    def skipped(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.SKIPPED)

    @property
    def not_started(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.NOT_STARTED)

    @property
    def in_flight(self) -> tuple[ChangeResult, ...]:
        return self._with(Status.IN_FLIGHT)

    @property
    def complete(self) -> bool:
        """True when every change was done."""
        return all(c.status is Status.DONE for c in self.changes)

    @property
    def refused(self) -> bool:
        """True when what was not done was held back only by changes refused because their
        resource changed since the plan (412: its ETag moved), not by failures, interruptions
        or operations still running: a conflict (exit 6), to be planned again."""
        return bool(self.failed) and not self.interrupted and not self.in_flight and all(
            isinstance(c.error, ConflictError) and c.error.status == 412 for c in self.failed)

    def get(self, address: ResourceAddress) -> ChangeResult | None:
        return next((c for c in self.changes if c.address == address), None)

    def summary(self, verb: str = "Apply") -> str:
        """``Apply complete: 3 done.``, ``Apply incomplete: 2 done, 1 failed, 1 skipped.`` (and
        how many are still running in Azure, if any) or
        ``Apply interrupted: 2 done, 3 not started, 1 in flight (will be reconciled by the next
        apply).`` (``verb`` names the command: ``Destroy complete: ...``)."""
        counts = f"{len(self.done)} done, {len(self.failed)} failed, {len(self.skipped)} skipped"
        if self.complete:
            return f"{verb} complete: {len(self.done)} done."
        if not self.interrupted:
            running = f", {len(self.in_flight)} still running in Azure (the next apply " \
                "re-attaches to them)" if self.in_flight else ""
            return f"{verb} incomplete: {counts}{running}."
        broken = "".join(f", {len(group)} {name}" for name, group in (
            ("failed", self.failed), ("skipped", self.skipped)) if group)
        return (f"{verb} interrupted: {len(self.done)} done{broken}, {len(self.not_started)} "
                f"not started, {len(self.in_flight)} in flight (will be reconciled by the next "
                "apply).")
