"""Saved plans for ``apply PLANFILE``: the checks that refuse one once what it was made against
has moved (the Plan is read back from its document by ``plan.planfile.plan_from_document``).

A saved plan is applied exactly, so it must still describe the world: the manifests' digest,
the state's lineage and serial, and every live ETag it recorded must be what they were
(Terraform checks the state; we also check live resources, which Terraform does not). And since
the file's digest (``plan.planfile``) is no signature, no change of it may delete or replace a
resource that ``lifecycle.preventDestroy`` protects now
(``apply.protection.refuse_protected_deletes``). Any of these refuses the whole plan (exit 6)
before anything is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from aimodels.errors import PreconditionError
from aimodels.model.desired import DesiredState
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.planfile import REPLAN_HINT
from aimodels.plan.values import Action, Change, Plan
from aimodels.state.values import State
from aimodels.transport.client import AzureClient


def check_recorded(plan: Plan, desired: DesiredState, state: State, state_exists: bool) -> None:
    """Refuse the plan when the manifests or the state moved since it was made."""
    problems = []
    if plan.desired_digest != desired.digest():
        problems.append("the manifests changed since the plan was made")
    if not plan.state_lineage and state_exists and state.serial:
        problems.append("a state file was written since the plan was made")
    elif plan.state_lineage and (plan.state_lineage, plan.state_serial) != \
            (state.lineage, state.serial):
        problems.append(f"the state moved since the plan was made (serial "
                        f"{plan.state_serial} then, {state.serial} now)")
    _refuse(problems)


async def check_live(plan: Plan, client: AzureClient, parallelism: int = 10) -> None:
    """Refuse the plan when a resource it acts on is no longer as it recorded (ETag, or
    existence for creates and forgets)."""
    slots = asyncio.Semaphore(parallelism)

    async def checked(change: Change) -> str | None:
        async with slots:
            return await _live_problem(client, change)

    acting = [c for c in plan.changes if c.action is not Action.NOOP or c.is_forget]
    _refuse([p for p in await asyncio.gather(*(checked(c) for c in acting)) if p])


async def _live_problem(client: AzureClient, change: Change) -> str | None:
    body = await _read(client, change)
    if change.action is Action.CREATE or change.is_forget:
        return f"{change.address} exists now" if body is not None else None
    if body is None:
        return f"{change.address} no longer exists"
    etag = body.get("eTag") or body.get("etag")
    if change.precondition_etag and etag != change.precondition_etag:
        return f"{change.address} changed (ETag {etag}, the plan recorded " \
               f"{change.precondition_etag})"
    return None


async def _read(client: AzureClient, change: Change) -> Mapping[str, Any] | None:
    """The live body the change acts on (a custom model: the version it names)."""
    if change.address.kind != CUSTOM_MODEL:
        return await client.get_json_or_none(change.live_resource_id or change.resource_id)
    side = change.after if change.action is Action.CREATE else change.before
    version = (side or {}).get("version")
    params = {"version": str(version)} if version is not None else None
    return await client.get_json_or_none(f"/custom-models/{change.address.name}",
                                         api="registry", params=params)


def _refuse(problems: Iterable[str]) -> None:
    found = list(problems)
    if found:
        raise PreconditionError("The saved plan is stale: " + "; ".join(found), hint=REPLAN_HINT)
