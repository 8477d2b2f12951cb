"""``plan``: manifests + state + live Azure → a Plan with pre-flight findings and costs.

Read-only by contract: nothing here writes to Azure or takes the state lock. The embedded
emulator of ``target: local`` may start, which only reads its own data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from aimodels.apply.entries import registered_versions
from aimodels.apply.pending import with_interrupted
from aimodels.errors import Diagnostic, UsageError, warning
from aimodels.live.preflight import run_preflight
from aimodels.live.reader import read_live
from aimodels.manifest import LoadResult
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState, Stack
from aimodels.plan.planner import make_plan
from aimodels.plan.values import Plan, PriorResource
from aimodels.providers.registry import default_registry
from aimodels.service.inputs import resolve_inputs
from aimodels.service.prefetch import EarlyReads
from aimodels.service.runner import run
from aimodels.state.backend import StateBackend, open_backend
from aimodels.state.document import claim_state
from aimodels.state.values import StackIdentity, State


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What ``aimodels plan`` was asked: the manifests, the scope, and where Azure is."""

    paths: tuple[str, ...]
    env: Mapping[str, str]
    endpoint: str | None = None
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    parallelism: int = 10


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """The plan, the desired state it was made from, and the loader's warnings."""

    plan: Plan
    desired: DesiredState
    warnings: tuple[Diagnostic, ...] = ()


def plan_changes(options: PlanOptions, backend: StateBackend | None = None,
                 loaded: LoadResult | None = None) -> PlanOutcome:
    """Load, read state and live, plan, and run pre-flight; raises AimodelsError subclasses.
    ``backend`` is the state's when the caller has it open (apply), else opened here;
    ``loaded`` the manifests when the caller has loaded them (apply), else loaded here.

    When the manifests are loaded here, the parent collections of the state are listed while
    they are checked (``service.prefetch``): the same plan and the same errors, sooner.
    """
    targets = parse_addresses(options.targets, "--target")
    replace = parse_addresses(options.replace, "--replace")
    return run(_load_and_plan(options, backend, loaded, targets, replace))


async def _load_and_plan(options: PlanOptions, backend: StateBackend | None,
                         loaded: LoadResult | None, targets: Sequence[ResourceAddress],
                         replace: Sequence[ResourceAddress]) -> PlanOutcome:
    async with EarlyReads(options.endpoint, options.parallelism) as early:
        if loaded is None:
            loaded = await early.load(options.paths, env=options.env, strict_env=True)
        desired = loaded.desired
        with contextlib.ExitStack() as stack:
            if backend is None:
                backend = stack.enter_context(stack_backend(desired, options.env))
            state, notes = read_stack_state(desired, backend)
            plan = await _plan(desired, state, backend, options, targets, replace, early)
    return PlanOutcome(plan, desired, (*loaded.warnings, *notes))


async def _plan(desired: DesiredState, state: State, backend: StateBackend,
                options: PlanOptions, targets: Sequence[ResourceAddress],
                replace: Sequence[ResourceAddress], early: EarlyReads) -> Plan:
    prior = prior_resources(state)
    inputs = resolve_inputs(desired, state, options.env)
    state_exists = backend.exists()
    journal = backend.journal()
    registry = default_registry()
    async with early.connect(desired) as (client, listings):
        found = await read_live(desired, prior, client, registry=registry, inputs=inputs,
                                listings=listings)
        # An interrupted apply's creates are planned as the next apply will see them.
        prior, interrupted = await asyncio.to_thread(with_interrupted, journal, prior,
                                                     found.live)
        # A plan made with no state file records no lineage: apply creates the state then.
        plan = make_plan(desired, found.live, prior, registry=registry, replace=replace,
                         targets=targets, inputs=inputs,
                         state_lineage=state.lineage if state_exists else "",
                         state_serial=state.serial)
        plan = plan.with_diagnostics([*found.diagnostics, *interrupted])
        return await run_preflight(plan, desired, found.live, client)


@contextlib.contextmanager
def stack_backend(desired: DesiredState, env: Mapping[str, str]) -> Iterator[StateBackend]:
    """The state backend the Stack names, closed afterwards (its lock is the caller's)."""
    backend = open_backend(desired.stack, env)
    try:
        yield backend
    finally:
        backend.close()


def stack_identity(stack: Stack) -> StackIdentity:
    """What the state records of the Stack it belongs to."""
    return StackIdentity(stack.name, stack.target, stack.subscription_id, stack.resource_group)


def read_stack_state(desired: DesiredState,
                     backend: StateBackend) -> tuple[State, tuple[Diagnostic, ...]]:
    """The state of the manifests' Stack, and a warning when the state did not record its
    Stack.

    A state recording another Stack is refused (``claim_state``). One written before aimodels
    recorded the Stack is taken as this one's and records it on the next write (as Terraform
    upgrades an older state silently), but we say so, since nothing can check it this time.
    """
    raw = backend.read()
    identity = stack_identity(desired.stack)
    warnings: tuple[Diagnostic, ...] = ()
    if raw.stack is None and raw.serial > 0:
        warnings = (warning(
            f"The {backend.where} does not record which Stack it belongs to (an older "
            "aimodels wrote it)",
            f"It is taken as the state of {identity.describe()}, and the next apply records "
            "that. If it is another Stack's state, do not apply: put this Stack's own state "
            "there."),)
    return claim_state(backend.where, raw, identity), warnings


def prior_resources(state: State) -> dict[ResourceAddress, PriorResource]:
    """The state's resources as the planner's inputs (secret digests split out of the spec)."""
    prior = {}
    for entry in state.resources:
        address = ResourceAddress.parse(entry.address)
        digests = dict(entry.extra.get("secretDigests", {}))
        prior[address] = PriorResource(address, entry.resource_id, dict(entry.desired),
                                       entry.etag, entry.prevent_destroy, digests,
                                       entry.ignore_changes, registered_versions(entry))
    return prior


def parse_addresses(raw: Sequence[str], flag: str) -> tuple[ResourceAddress, ...]:
    """``Kind/name`` flags as addresses; a malformed one is a usage error (exit 64)."""
    try:
        return tuple(ResourceAddress.parse(text) for text in raw)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from exc
