"""Saved plans for ``apply PLANFILE``: the Plan read back from its JSON document, and the
checks that refuse it once what it was made against has moved.

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
from dataclasses import replace
from typing import Any

from aimodels.errors import Diagnostic, PreconditionError, Severity, SourceLocation
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.planfile import REPLAN_HINT
from aimodels.plan.values import Action, Change, CostEstimate, FieldChange, Plan, Reason
from aimodels.state.values import State
from aimodels.transport.client import AzureClient


def plan_from_document(document: Mapping[str, Any]) -> Plan:
    """The Plan a ``plan --out`` document holds (``Plan.to_dict`` read back; check the file
    with ``read_plan_file`` first). ``applyable`` and ``errored`` are derived again from the
    changes and diagnostics, not taken from the document."""
    try:
        changes = [_change(c) for c in document["changes"]]
        diagnostics = [_diagnostic(d) for d in document.get("diagnostics", ())]
        plan = Plan.build(changes, diagnostics,
                          desired_digest=str(document.get("desiredDigest", "")),
                          state_lineage=str(document.get("stateLineage", "")),
                          state_serial=int(document.get("stateSerial", 0)),
                          targets=tuple(ResourceAddress.parse(a)
                                        for a in document.get("targets", ())))
        return replace(plan, format_version=str(document.get("formatVersion", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PreconditionError(f"The plan file is damaged or from another version: {exc}",
                                hint=REPLAN_HINT) from exc


def _change(data: Mapping[str, Any]) -> Change:
    cost = data.get("cost")
    return Change(
        address=ResourceAddress.parse(data["address"]),
        action=Action(data["action"]),
        reasons=tuple(Reason(r) for r in data.get("reasons", ())),
        field_changes=tuple(FieldChange(f["path"], f.get("before"), f.get("after"),
                                        bool(f.get("forcesReplacement")),
                                        bool(f.get("sensitive")))
                            for f in data.get("fieldChanges", ())),
        before=data.get("before"), after=data.get("after"),
        precondition_etag=data.get("preconditionEtag"),
        resource_id=data.get("resourceId", ""), live_resource_id=data.get("liveResourceId"),
        replace_paths=tuple(data.get("replacePaths", ())),
        depends_on=tuple(ResourceAddress.parse(a) for a in data.get("dependsOn", ())),
        warnings=tuple(data.get("warnings", ())),
        cost=CostEstimate(cost["currency"], cost.get("hourlyBefore"), cost.get("hourlyAfter"))
        if cost else None,
        notes=tuple(data.get("notes", ())), retires=tuple(data.get("retires", ())))


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    source = SourceLocation(data["file"], data.get("line", 0), data.get("column", 0)) \
        if data.get("file") else None
    return Diagnostic(Severity(data["severity"]), data["summary"], data.get("detail", ""),
                      source, data.get("path", ""), data.get("address", ""))


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
    exists = body is not None
    if change.action is Action.CREATE or change.is_forget:
        return f"{change.address} exists now" if exists else None
    if not exists:
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
