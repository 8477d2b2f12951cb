"""``apply`` and ``destroy``: one session from taking the state lock to releasing it.

    with ApplySession.open(request) as session:      # loads the manifests, takes the lock
        session.recover()                             # what an interrupted run left open
        outcome = session.plan()                      # or saved_plan(FILE), destroy_plan()
        ... the CLI shows the plan and asks ...
        report = session.apply(outcome.plan, on_event)

The lock is held for the whole run, planning included, so a second apply fails fast (exit 6)
naming the holder instead of planning against a state about to move. Recovery runs before
planning, so the plan starts from a state that holds everything an interrupted run did.
During ``apply`` the first SIGINT (Ctrl-C) asks the executor to stop gracefully; a second one
raises KeyboardInterrupt at once (the journal covers what was in flight). Nothing here prints;
events go to ``on_event`` and the report is a value.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from aimodels.apply.events import ApplyResult, EventSink, Interruption, Status
from aimodels.apply.executor import ApplyOptions, apply_plan
from aimodels.apply.interrupt import DEFAULT_GRACE
from aimodels.apply.pending import latest_intents
from aimodels.apply.protection import refuse_protected_deletes
from aimodels.apply.recovery import recover_pending
from aimodels.apply.saved_plan import check_live, check_recorded
from aimodels.apply.state_store import StateStore
from aimodels.errors import Diagnostic
from aimodels.live.reader import read_live
from aimodels.manifest import LoadResult, load_manifests
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.plan.graph import Graph
from aimodels.plan.planfile import plan_from_document, read_plan_file
from aimodels.plan.planner import make_plan
from aimodels.plan.values import Plan
from aimodels.providers.registry import default_registry
from aimodels.service.connection import connect
from aimodels.service.inputs import secret_values
from aimodels.service.locking import LockedSession, lock_state
from aimodels.service.planning import (
    PlanOptions,
    PlanOutcome,
    parse_addresses,
    plan_changes,
    prior_resources,
    read_stack_state,
)
from aimodels.service.relocate import manifest_locator
from aimodels.service.runner import run
from aimodels.state.backend import StateBackend, StateLock, took_over
from aimodels.state.values import State
from aimodels.transport.client import AzureClient

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """What ``apply`` or ``destroy`` was asked: the manifests, scope, and where Azure is.
    ``command`` is recorded in the state lock so a refused run can say who holds it."""

    paths: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    endpoint: str | None = None
    targets: tuple[str, ...] = ()
    parallelism: int = 10
    command: str = "aimodels apply"
    destroying: bool = False
    grace: float = DEFAULT_GRACE


@dataclass(frozen=True, slots=True)
class DeploymentAccess:
    """How to reach a deployment apply created or updated, and commands to try it.
    ``endpoint`` is None when there is no stable one to show (the embedded emulator)."""

    address: ResourceAddress
    endpoint: str | None
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """The result of an apply run and how to reach its deployments."""

    result: ApplyResult
    access: tuple[DeploymentAccess, ...] = ()


class ApplySession(LockedSession):
    """One apply or destroy under the state lock; use ``open`` as a context manager."""

    def __init__(self, request: ApplyRequest, desired: DesiredState,
                 warnings: tuple[Diagnostic, ...], backend: StateBackend,
                 lock: StateLock) -> None:
        super().__init__(backend, lock)
        self.request = request
        self.desired = desired
        self.warnings = warnings

    @classmethod
    def open(cls, request: ApplyRequest) -> ApplySession:
        """Load the manifests (for the Stack: target and state backend) and take the lock.
        Destroy does not need the secrets, so unset ``fromEnv`` variables are warnings then."""
        loaded = load_manifests(request.paths, env=request.env,
                                strict_env=not request.destroying)
        backend, lock = lock_state(loaded.desired.stack, request.env, request.command)
        return cls(request, loaded.desired, (*loaded.warnings, *took_over(lock)), backend,
                   lock)

    def pending(self) -> int:
        """How many operations an interrupted run left for ``recover`` to settle."""
        return len(latest_intents(self.backend.journal().pending()))

    def recover(self) -> list[str]:
        """Settle the writes an interrupted run left open in the journal (see
        ``apply.recovery``) before planning; returns what changed in the state."""
        journal = self.backend.journal()
        if not journal.pending():
            return []
        state = self._state()
        store = StateStore(self.backend, state, journal)
        locate = manifest_locator(self.desired, state, self.request.env)
        return run(self._with_client(lambda client: recover_pending(
            store, client, locate=locate, parallelism=self.request.parallelism)))

    def plan(self) -> PlanOutcome:
        """A fresh plan of the manifests (``plan``'s own code, pre-flight included), from the
        manifests ``open`` loaded: loading them again doubled the CPU of an apply's start
        and showed the loader's warnings twice."""
        options = PlanOptions(self.request.paths, self.request.env, self.request.endpoint,
                              targets=self.request.targets,
                              parallelism=self.request.parallelism)
        # Loaded strictly unless destroying; its warnings are in self.warnings already.
        loaded = None if self.request.destroying else LoadResult(self.desired, ())
        outcome = plan_changes(options, self.backend, loaded)
        self.desired = outcome.desired
        return PlanOutcome(outcome.plan, outcome.desired, (*self.warnings, *outcome.warnings))

    def saved_plan(self, plan_file: str | Path) -> PlanOutcome:
        """The plan saved in ``plan_file``, refused (exit 6) when the file is not as written,
        when the manifests, the state or any live resource it acts on moved since it was made,
        or when it deletes or replaces a resource protected by lifecycle.preventDestroy."""
        plan = plan_from_document(read_plan_file(plan_file))
        state = self._state()
        check_recorded(plan, self.desired, state, self.backend.exists())
        refuse_protected_deletes(plan.changes, self.desired, state)
        run(self._with_client(lambda client: check_live(
            plan, client, self.request.parallelism)))
        return PlanOutcome(plan, self.desired, self.warnings)

    def destroy_plan(self) -> PlanOutcome:
        """A plan deleting everything the state holds (dependents first), or the targets and
        everything that depends on them; ``lifecycle.preventDestroy`` (the manifest's, else the
        state's) refuses it. The manifests stay the desired state of the run: they say what is
        protected, here and in the executor's last check before each delete."""
        empty = DesiredState(self.desired.stack, {}, self.desired.files)
        state, notes = read_stack_state(self.desired, self.backend)
        prior = prior_resources(state)

        async def read(client: AzureClient) -> Plan:
            registry = default_registry()
            found = await read_live(empty, prior, client, registry=registry,
                                    parallelism=self.request.parallelism)
            plan = make_plan(self.desired, found.live, prior, registry=registry,
                             state_lineage=state.lineage, state_serial=state.serial,
                             destroy=True)
            return plan.with_diagnostics(found.diagnostics)

        plan = run(self._with_client(read))
        targets = parse_addresses(self.request.targets, "--target")
        return PlanOutcome(narrow_to_dependents(plan, targets), self.desired,
                           (*self.warnings, *notes))

    def apply(self, plan: Plan, on_event: EventSink | None = None,
              on_stop: Callable[[Interruption], None] | None = None) -> ApplyReport:
        """Carry out ``plan``; the report holds every change's result (incomplete and
        interrupted runs too: the caller decides the exit code). ``on_stop`` is told when a
        first Ctrl-C starts a graceful stop; a second one raises KeyboardInterrupt."""
        store = StateStore(self.backend, self._state())
        options = ApplyOptions(parallelism=self.request.parallelism,
                               secrets=secret_values(self.desired, self.request.env),
                               grace=self.request.grace, on_stop=on_stop)

        async def apply_with(client: AzureClient) -> ApplyReport:
            async with _stop_on_sigint() as stop:
                result = await apply_plan(plan, self.desired, client, store, on_event, options,
                                          stop, registry=default_registry())
            access = await deployment_access(client, plan, result)
            if self.desired.stack.target == "local" and not self.request.endpoint:
                # The embedded emulator's port lives as long as this command: not worth showing.
                access = tuple(replace(a, endpoint=None) for a in access)
            return ApplyReport(result, access)

        return run(self._with_client(apply_with))

    def _state(self) -> State:
        """The state, read under the lock, refused when it belongs to another Stack."""
        return read_stack_state(self.desired, self.backend)[0]

    async def _with_client(self, work: Callable[[AzureClient], Awaitable[T]]) -> T:
        async with connect(self.desired, self.request.endpoint) as client:
            return await work(client)


@contextlib.asynccontextmanager
async def _stop_on_sigint() -> AsyncIterator[asyncio.Event]:
    """An event the first SIGINT sets; the second raises KeyboardInterrupt in the loop, which
    ends ``asyncio.run`` at once. Without a main thread (signals unavailable), only the event."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (ValueError, RuntimeError, NotImplementedError):
        yield stop
        return
    try:
        yield stop
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def narrow_to_dependents(plan: Plan, targets: tuple[ResourceAddress, ...]) -> Plan:
    """A destroy plan cut down to ``targets`` and what depends on them (they go first)."""
    if not targets:
        return plan
    graph = Graph({c.address: c.depends_on for c in plan.changes})
    known = [t for t in targets if t in set(graph.nodes)]
    keep = set(known) | graph.descendants(known)
    diagnostics = [d for d in plan.diagnostics if not d.address or
                   _in(d.address, keep)]
    return Plan.build([c for c in plan.changes if c.address in keep], diagnostics,
                      desired_digest=plan.desired_digest, state_lineage=plan.state_lineage,
                      state_serial=plan.state_serial, targets=tuple(sorted(known)))


def _in(address: str, keep: set[ResourceAddress]) -> bool:
    try:
        return ResourceAddress.parse(address) in keep
    except ValueError:
        return True


async def deployment_access(client: AzureClient, plan: Plan,
                            result: ApplyResult) -> tuple[DeploymentAccess, ...]:
    """Endpoints and try-it commands of the deployments this run created or updated."""
    found = []
    accounts: dict[str, Any] = {}
    planned_for = {planned.address: planned for planned in plan.changes}
    for change in result.changes:
        planned = planned_for.get(change.address)
        if change.status is not Status.DONE or planned is None or planned.after is None \
                or planned.is_record:  # only the state changed: nothing new to reach
            continue
        name = change.address.name
        if change.address.kind == MODEL_DEPLOYMENT:
            status = ((change.body or {}).get("properties") or {}).get("status") or {}
            found.append(DeploymentAccess(change.address, status.get("endpoint"), (
                f"aimodels access {planned.after.get('namespace')}",
                f'aimodels chat {name} "Hello"')))
        elif change.address.kind == FOUNDRY_DEPLOYMENT:
            account = planned.resource_id.rsplit("/deployments/", 1)[0]
            if account not in accounts:
                accounts[account] = await client.get_json_or_none(account) or {}
            endpoint = (accounts[account].get("properties") or {}).get("endpoint")
            found.append(DeploymentAccess(change.address, endpoint,
                                          (f'aimodels chat {name} "Hello"',)))
    return tuple(found)
