"""``apply_plan``: carry out exactly the changes a Plan lists, as a dependency graph.

The graph comes from ``plan.changes`` only (``plan.graph.apply_graph``; Terraform's rule):
creates and updates after what they depend on, deletes before what they depend on, a REPLACE
as delete-then-create (ModelDeployment and FoundryDeployment names are fixed in their parent,
so the old and the new cannot coexist), a forget and a record (a lifecycle change) as
state-only steps. Before any write, ``apply.protection`` refuses a plan that would delete a
resource ``lifecycle.preventDestroy`` protects, judged from the manifests and the state of this
run rather than from the plan (exit 6, nothing changed). Each step runs as soon
as its dependencies are done, at most ``parallelism`` at once. Writes to one Cognitive
Services account run one at a time (Azure answers 409 otherwise) while other accounts and
kinds proceed: steps queued on a busy account hold no slot, and a free slot goes to the step
that holds back the most others (``apply.slots``), so an account's chain of writes is not
starved by work that could run any time.

A failed step marks everything downstream ``skipped`` naming the failed address, and its error
is reported once, at the step that failed (Terraform's ``dag/walk.go``); independent branches
carry on. A step whose operation is still running at the LRO deadline is neither done nor
failed: it ends ``in flight``, its journal intent left open for the next apply to re-attach
to, and what depends on it is skipped. Each completed step goes into the state at once, and
the state is written in group commits (``StateStore``), after a journal intent. The executor
never prints: it emits ``ApplyEvent`` values to ``on_event``.

A ``stop`` event (set on Ctrl-C) stops the run early: nothing new starts, the writes in flight
get ``ApplyOptions.grace`` seconds to be answered (so their LRO handles reach the journal), and
what is still running then is let go, left in the journal for the next apply
(``apply.interrupt``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Mapping, Set
from dataclasses import dataclass, field

from aimodels.apply.entries import state_entry, with_failure, with_lifecycle, without_versions
from aimodels.apply.events import (
    ApplyEvent,
    ApplyResult,
    ChangeResult,
    EventSink,
    Interruption,
    Phase,
    Status,
)
from aimodels.apply.interrupt import DEFAULT_GRACE, Flight, FlightCancelled, Flights, Parked
from aimodels.apply.operations import (
    ArmWriter,
    CognitiveWriter,
    ConflictRetry,
    OperationFailed,
    Outcome,
    RegistryWriter,
    StepRequest,
    Writer,
)
from aimodels.apply.protection import refuse_protected_deletes
from aimodels.apply.recovery import intent_details, portable_handle
from aimodels.apply.slots import Slots
from aimodels.apply.state_store import StateStore
from aimodels.apply.transfer import Transfer
from aimodels.errors import AimodelsError
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.plan.graph import Graph, Step, apply_graph, steps_of
from aimodels.plan.provider import ProviderContext, ProviderRegistry, WriterFamily
from aimodels.plan.values import Change, Plan, ResolvedInputs
from aimodels.state.backend import RecordFolder
from aimodels.state.values import ResourceState
from aimodels.transport.client import AzureClient
from aimodels.transport.lro import LroHandle, OperationTimedOut

DEFAULT_PARALLELISM = 10


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """How the executor runs. ``secrets`` are the values to send (``{address: {path: value}}``,
    from ``service.inputs.secret_values``): they go into request bodies and, as keyed digests,
    into the state; never into events or results. ``progress_every`` is how often a running
    step reports its elapsed time. ``grace`` is how long a stop waits for the writes in flight
    to be answered, and ``on_stop`` is told when a stop begins (to tell the user)."""

    parallelism: int = DEFAULT_PARALLELISM
    secrets: Mapping[ResourceAddress, Mapping[str, str]] = field(default_factory=dict,
                                                                 repr=False)
    conflict_retry: ConflictRetry = field(default_factory=ConflictRetry)
    progress_every: float = 10.0
    rng: random.Random | None = None
    grace: float = DEFAULT_GRACE
    on_stop: Callable[[Interruption], None] | None = None


async def apply_plan(plan: Plan, desired: DesiredState, client: AzureClient, store: StateStore,
                     on_event: EventSink | None = None, options: ApplyOptions | None = None,
                     stop: asyncio.Event | None = None, *,
                     registry: ProviderRegistry) -> ApplyResult:
    """Carry out ``plan`` against Azure through ``client``, recording each step in ``store``.
    ``registry`` gives each kind's provider: its request bodies and its writer family.

    Raises AimodelsError for a plan that cannot be applied (errored), PreconditionError when
    it would delete a protected resource (``refuse_protected_deletes``); failures of single
    changes do not raise: they are in the result (the caller turns an incomplete result into
    ``ApplyIncomplete``). Setting ``stop`` ends the run early (``ApplyResult.interrupted``).
    The caller holds the state lock.
    """
    if plan.errored:
        raise AimodelsError("This plan has errors and cannot be applied",
                            hint="Run `aimodels plan` to see them, fix them, and plan again.")
    refuse_protected_deletes(plan.changes, desired, store.state)
    run = _Run(plan, desired, client, store, registry, on_event or _ignore,
               options or ApplyOptions(), stop)
    return await run.execute(stop)


@dataclass(slots=True)
class _StepEnd:
    """How one step ended: ``root`` is the failed address a skip traces back to."""

    status: Status
    message: str = ""
    elapsed: float = 0.0
    error: AimodelsError | None = None
    root: ResourceAddress | None = None
    outcome: Outcome | None = None


class _Run:
    """One apply run: the step graph, the limits, and how each step ended."""

    def __init__(self, plan: Plan, desired: DesiredState, client: AzureClient,
                 store: StateStore, registry: ProviderRegistry, on_event: EventSink,
                 options: ApplyOptions, stop: asyncio.Event | None = None) -> None:
        self.desired, self.client, self.store = desired, client, store
        self.on_event, self.options = on_event, options
        self.changes = {c.address: c for c in plan.changes}
        self.graph: Graph[Step] = apply_graph(plan.changes)
        self.registry = registry
        self.ctx = ProviderContext(desired.stack, ResolvedInputs(), desired.resources,
                                   secret_values=options.secrets)
        families = {registry.for_address(c.address).writer for c in plan.changes}
        self.writers = _writers(client, options, store.upload_records, families)
        self.slots = Slots(options.parallelism)
        self.ends: dict[Step, _StepEnd] = {}
        self.finished: dict[Step, asyncio.Event] = {s: asyncio.Event() for s in self.graph.nodes}
        self.flights = Flights(stop)
        self._step_started: dict[Step, float] = {}

    async def execute(self, stop: asyncio.Event | None) -> ApplyResult:
        order = self.graph.topological_order()
        watcher = asyncio.create_task(self._watch(stop)) if stop is not None else None
        try:
            async with asyncio.TaskGroup() as group:
                for step in order:
                    group.create_task(self._walk(step))
        except BaseExceptionGroup as failed:
            # Only what no step can absorb lands here (the state file cannot be written, a
            # bug): the other steps were cancelled; surface the cause itself, not a group.
            await self.store.abandon()
            raise _first_cause(failed) from None
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        await self.store.finish()
        return ApplyResult(tuple(self._result(c) for c in sorted(self.changes.values(),
                                                                   key=lambda c: c.address)
                                 if steps_of(c)), interrupted=self.flights.stopping)

    async def _watch(self, stop: asyncio.Event) -> None:
        """On a stop request: say so, then land the flights (``Flights.land_all``)."""
        await stop.wait()
        if self.options.on_stop is not None:
            self.options.on_stop(Interruption(self.flights.unanswered(), self.options.grace))
        await self.flights.land_all(self.options.grace)

    async def _walk(self, step: Step) -> None:
        """Wait for the step's dependencies, then run it or skip it."""
        try:
            for dep in sorted(self.graph.dependencies(step)):
                await self.finished[dep].wait()
            blocked = self._blocked_by(step)
            if blocked is not None:
                self._skip(step, blocked)
            elif self.flights.stopping:
                self.ends[step] = _StepEnd(Status.NOT_STARTED)
            elif step.operation in ("forget", "record"):
                await self._state_only(step)
            else:
                await self._run(step)
        finally:
            self.finished[step].set()

    def _blocked_by(self, step: Step) -> ResourceAddress | None:
        """The failed address upstream of ``step``, if any (the first in address order)."""
        roots = [end.root for dep in self.graph.dependencies(step)
                 if (end := self.ends[dep]).status is not Status.DONE and end.root]
        return min(roots) if roots else None

    def _skip(self, step: Step, root: ResourceAddress) -> None:
        running = any(end.status is Status.IN_FLIGHT and end.root == root
                      for end in self.ends.values())
        why = f"upstream {root} {'is still running in Azure' if running else 'failed'}"
        self.ends[step] = _StepEnd(Status.SKIPPED, why, root=root)
        if root != step.address:  # the create half of a failed replace: reported as failed
            self._emit(step, Phase.SKIPPED, None, why)

    async def _state_only(self, step: Step) -> None:
        """A forget drops the state entry; a record writes the manifest's lifecycle into it.
        Neither calls Azure."""
        address = str(step.address)
        entry, resource = self.store.get(address), self.desired.resources.get(step.address)
        if step.operation == "forget":
            await self.store.remove(address)
        elif entry is not None and resource is not None:
            await self.store.put(with_lifecycle(entry, resource))
        self.ends[step] = _StepEnd(Status.DONE)
        self._emit(step, Phase.DONE, self.client.clock())

    async def _run(self, step: Step) -> None:
        change = self.changes[step.address]
        writer = self.writers[self.registry.for_address(step.address).writer]
        request = self._request(step, change)
        held_back = len(self.graph.descendants([step]))
        async with self.slots.hold(writer.exclusive_key(request), held_back):
            if self.flights.stopping:  # stopped while this step waited for its slot
                self.ends[step] = _StepEnd(Status.NOT_STARTED)
                return
            started = self.client.clock()
            self._emit(step, Phase.STARTED, started)
            async with self._ticking(step, started):
                end = await self._send(step, change, writer, request, started)
            self.ends[step] = end
            self._emit(step, _PHASES[end.status], started, end.message)

    async def _send(self, step: Step, change: Change, writer: Writer, request: StepRequest,
                    started: float) -> _StepEnd:
        """The write itself, between a journal intent and its closing line."""
        where = writer.locate(request)
        entry = None if step.operation in ("delete", "retire") else \
            self._entry(change, Outcome())
        details = intent_details(where.url, where.api, entry, where.params)
        intent = await self.store.intent(str(step.address), step.operation, details)
        flight = self.flights.take_off(step, intent, details)
        if flight is None:  # stopped while the intent was being written: nothing was sent
            await self.store.done(intent, "not sent")
            return _StepEnd(Status.NOT_STARTED, "interrupted before it was sent")
        try:
            return await self._fly(step, change, writer, request, flight, started)
        finally:
            self.flights.land(step)

    async def _fly(self, step: Step, change: Change, writer: Writer, request: StepRequest,
                   flight: Flight, started: float) -> _StepEnd:
        try:
            outcome = await flight.run(getattr(writer, step.operation)(request))
        except FlightCancelled as cancelled:
            await flight.intent_id()  # the handle, if it came, is in the journal
            return _StepEnd(Status.IN_FLIGHT, _LET_GO[cancelled.parked],
                            self.client.clock() - started)
        except OperationTimedOut as exc:
            # Azure has not said how it ended: the intent (with the LRO handle) stays open,
            # so the next apply re-attaches to the operation before it plans.
            await flight.intent_id()
            return _StepEnd(Status.IN_FLIGHT, f"{exc.message}; {_STILL_RUNNING}",
                            self.client.clock() - started, exc, root=step.address)
        except AimodelsError as exc:
            if isinstance(exc, OperationFailed) and step.operation != "delete":
                await self.store.put(self._entry(change, exc.outcome, failure=exc))
            await self.store.done(await flight.intent_id(), "failed")
            return _StepEnd(Status.FAILED, exc.message, self.client.clock() - started, exc,
                            root=step.address)
        await self._record(step, change, outcome)
        await self.store.done(await flight.intent_id())
        return _StepEnd(Status.DONE, elapsed=self.client.clock() - started, outcome=outcome)

    def _journal_handle(self, step: Step, handle: LroHandle) -> None:
        """Amend the step's intent with the LRO handle, so a later run can re-attach to the
        operation; the flight can be let go once it is written."""
        flight = self.flights.get(step)
        if flight is None:
            return

        async def amend(previous: asyncio.Task[str] | None) -> str:
            current = await previous if previous is not None else flight.intent
            details = {**flight.details, "lro": portable_handle(handle)}
            new = await self.store.amend(current, str(step.address), step.operation, details)
            self.flights.park(step, Parked.JOURNALED)
            return new

        flight.amending = asyncio.create_task(amend(flight.amending))

    async def _record(self, step: Step, change: Change, outcome: Outcome) -> None:
        """The state after a step: the entry written for a create or update, dropped after a
        delete (the create half of a replace writes it again), its retired versions dropped
        after a retire."""
        if step.operation == "delete":
            await self.store.remove(str(step.address))
            return
        if step.operation == "retire":
            entry = self.store.get(str(step.address))
            if entry is not None:
                await self.store.put(without_versions(entry, change.retires))
            return
        await self.store.put(self._entry(change, outcome))

    def _entry(self, change: Change, outcome: Outcome,
               failure: OperationFailed | None = None) -> ResourceState:
        """The state entry of an applied change. A resource whose operation failed is still
        recorded (it exists, so it is ours to manage), with the failure under
        ``extra.provisioningFailed`` for people."""
        address = change.address
        digests = {path: self.store.secret_digest(value)
                   for path, value in self.options.secrets.get(address, {}).items()}
        entry = state_entry(change, outcome.etag, resource=self.desired.resources.get(address),
                            prior=self.store.get(str(address)), digests=digests)
        return with_failure(entry, failure.code, failure.message) if failure else entry

    def _request(self, step: Step, change: Change) -> StepRequest:
        def note(phase: Phase) -> Callable[[str], None]:
            return lambda message: self._emit(step, phase, self._started(step), message)

        def on_handle(handle: LroHandle) -> None:
            self._journal_handle(step, handle)
            self._emit(step, Phase.POLLING, self._started(step), "waiting for Azure")

        def waiting(message: str) -> None:
            self.flights.park(step, Parked.RETRYING)
            note(Phase.WAITING)(message)

        def progress(transfer: Transfer) -> None:
            self._emit(step, Phase.POLLING, self._started(step), transfer=transfer)

        return StepRequest(change, step.operation, self.registry.for_address(change.address),
                           self.ctx, note(Phase.POLLING), waiting, on_handle, progress)

    def _started(self, step: Step) -> float | None:
        return self._step_started.get(step)

    @contextlib.asynccontextmanager
    async def _ticking(self, step: Step, started: float) -> AsyncIterator[None]:
        """Report the elapsed time of a running step every ``progress_every`` seconds."""
        self._step_started[step] = started

        async def tick() -> None:
            while True:
                await asyncio.sleep(self.options.progress_every)
                self._emit(step, Phase.POLLING, started)

        ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def _emit(self, step: Step, phase: Phase, started: float | None, message: str = "",
              transfer: Transfer | None = None) -> None:
        now = self.client.clock()
        elapsed = now - started if started is not None and phase is not Phase.STARTED else 0.0
        self.on_event(ApplyEvent(step.address, step.operation, phase, now, elapsed, message,
                                 transfer))

    def _result(self, change: Change) -> ChangeResult:
        ends = [self.ends[s] for s in steps_of(change) if s in self.ends]
        elapsed = sum(e.elapsed for e in ends)
        failed = next((e for e in ends if e.status is Status.FAILED), None)
        if failed is not None:
            return ChangeResult(change.address, change.action, Status.FAILED, failed.message,
                                elapsed, failed.error)
        for status in (Status.SKIPPED, Status.IN_FLIGHT, Status.NOT_STARTED):
            undone = next((e for e in ends if e.status is status), None)
            if undone is not None:
                return ChangeResult(change.address, change.action, status, undone.message,
                                    elapsed)
        body = next((e.outcome.body for e in reversed(ends) if e.outcome), None)
        return ChangeResult(change.address, change.action, Status.DONE, elapsed=elapsed,
                            body=body)


#: The event that ends a step, by how it ended (an interrupted step is left running: POLLING).
_PHASES = {Status.DONE: Phase.DONE, Status.FAILED: Phase.FAILED, Status.SKIPPED: Phase.SKIPPED,
           Status.IN_FLIGHT: Phase.POLLING, Status.NOT_STARTED: Phase.SKIPPED}

#: What a step says when its operation outlasted the LRO deadline.
_STILL_RUNNING = "it may still be running in Azure: the next apply re-attaches to it"

#: What an interrupted step says, by what its flight was doing when it was let go.
_LET_GO = {
    Parked.JOURNALED: "interrupted: it runs on in Azure; the next apply re-attaches to it",
    Parked.RETRYING: "interrupted while retrying; the next apply re-reads it",
    Parked.NO: "interrupted before Azure answered; the next apply re-reads it",
}


def _writers(client: AzureClient, options: ApplyOptions, records: RecordFolder,
             families: Set[WriterFamily]) -> dict[WriterFamily, Writer]:
    """One writer per family the plan's changes need; a kind's provider names its family
    (``Provider.writer``). The registry's writer only when a change needs it: making it
    imports the upload machinery (azure-storage-blob, requests: ~0.3 s of CPU) and reads
    the upload settings, which a plan without a CustomModel has no use for."""
    writers: dict[WriterFamily, Writer] = {
        WriterFamily.ARM: ArmWriter(client, options.conflict_retry, options.rng),
        WriterFamily.COGNITIVE: CognitiveWriter(client, options.conflict_retry, options.rng)}
    if WriterFamily.REGISTRY in families:
        writers[WriterFamily.REGISTRY] = RegistryWriter(client, records=records)
    return writers


def _first_cause(group: BaseExceptionGroup) -> BaseException:
    """The first exception inside a (possibly nested) exception group."""
    first = group.exceptions[0]
    return _first_cause(first) if isinstance(first, BaseExceptionGroup) else first


def _ignore(event: ApplyEvent) -> None:
    return None


__all__ = ["ApplyOptions", "DEFAULT_PARALLELISM", "apply_plan"]
