"""``drift``: live vs last applied, and manifests vs last applied, for scheduled checks.

Read-only like plan. Unset ``fromEnv`` variables are warnings here (a cron job may not carry
the secrets): their credentials are then not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aimodels.errors import Diagnostic
from aimodels.live.reader import read_live
from aimodels.plan.drift import DriftReport, detect_drift
from aimodels.providers.registry import default_registry
from aimodels.service.inputs import resolve_inputs
from aimodels.service.planning import prior_resources, read_stack_state, stack_backend
from aimodels.service.prefetch import EarlyReads
from aimodels.service.runner import run


@dataclass(frozen=True, slots=True)
class DriftOutcome:
    """The report, plus the loader's and reader's warnings and errors to show first, and the
    Stack's name (for the hidden marker of the markdown report)."""

    report: DriftReport
    diagnostics: tuple[Diagnostic, ...] = ()
    stack: str = ""


def check_drift(paths: tuple[str, ...], env: Mapping[str, str], endpoint: str | None,
                parallelism: int = 10) -> DriftOutcome:
    """Load the manifests and state, read live, and compare. The state's parent collections
    are listed while the manifests are checked, as for ``plan`` (``service.prefetch``)."""
    return run(_check_drift(paths, env, endpoint, parallelism))


async def _check_drift(paths: tuple[str, ...], env: Mapping[str, str], endpoint: str | None,
                       parallelism: int) -> DriftOutcome:
    async with EarlyReads(endpoint, parallelism) as early:
        loaded = await early.load(paths, env=env, strict_env=False)
        desired = loaded.desired
        with stack_backend(desired, env) as backend:
            state, notes = read_stack_state(desired, backend)
        prior = prior_resources(state)
        inputs = resolve_inputs(desired, state, env)
        registry = default_registry()
        async with early.connect(desired) as (client, listings):
            found = await read_live(desired, prior, client, registry=registry, inputs=inputs,
                                    listings=listings)
    report = detect_drift(desired, found.live, prior, registry=registry, inputs=inputs)
    return DriftOutcome(report, (*loaded.warnings, *notes, *found.diagnostics),
                        desired.stack.name)
