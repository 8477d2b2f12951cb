"""``lifecycle`` reaches the state: a lifecycle-only change is planned as a record and applied
without a call to Azure, after which the next plan is empty and the guard holds; and the executor
refuses to delete a protected resource whatever the plan it is handed says (exit 6)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from apply_support import Harness, address, arm, deployment_path, model_deployment

from aimodels.apply.events import Status
from aimodels.errors import EXIT_CONFLICT, PreconditionError
from aimodels.model.desired import DesiredState, Lifecycle
from aimodels.plan.values import Action, Plan

CHAT = address("ModelDeployment/chat")


def with_lifecycle(desired: DesiredState, lifecycle: Lifecycle) -> DesiredState:
    chat = replace(desired.resources[CHAT], lifecycle=lifecycle)
    return replace(desired, resources={**desired.resources, CHAT: chat})


def etag(outside: httpx.Client) -> str:
    return str(arm(outside, "GET", deployment_path("chat")).json()["eTag"])


@pytest.mark.parametrize("lifecycle", [
    Lifecycle(prevent_destroy=True),
    Lifecycle(ignore_changes=("scale.replicas",)),
    Lifecycle(prevent_destroy=True, ignore_changes=("scale.replicas", "performanceMode")),
], ids=["preventDestroy", "ignoreChanges", "both"])
def test_a_lifecycle_change_is_recorded_in_the_state_without_calling_azure(
        harness: Harness, outside: httpx.Client, lifecycle: Lifecycle) -> None:
    harness.converge(harness.desired(model_deployment("chat")))
    before = etag(outside)
    desired = with_lifecycle(harness.desired(model_deployment("chat")), lifecycle)

    plan = harness.plan(desired)

    (change,) = plan.changes
    assert (change.action, change.is_record, plan.applyable) == (Action.NOOP, True, True)
    assert all(f.path.startswith("spec.lifecycle.") for f in change.field_changes)
    assert plan.summary().record == 1 and plan.summary().has_changes
    result = harness.apply(plan, desired)
    assert [c.status for c in result.changes] == [Status.DONE]
    assert {e.operation for e in harness.events_of(str(CHAT))} >= {"record"}
    assert "update" not in {e.operation for e in harness.events_of(str(CHAT))}
    assert etag(outside) == before  # nothing was sent to Azure
    entry = harness.state().get(str(CHAT))
    assert entry is not None
    assert (entry.prevent_destroy, entry.ignore_changes) == (lifecycle.prevent_destroy,
                                                             lifecycle.ignore_changes)
    assert not harness.plan(desired).summary().has_changes


def test_prevent_destroy_added_later_then_guards_a_removal(harness: Harness) -> None:
    """The issue: added to an existing resource, the flag used to stay false in the state, so
    removing the entry deleted the resource."""
    harness.converge(harness.desired(model_deployment("chat")))
    harness.converge(harness.desired(model_deployment("chat"), guarded=("ModelDeployment/chat",)))

    removed = harness.plan(harness.desired())

    assert removed.errored
    assert "has lifecycle.preventDestroy" in removed.diagnostics[0].summary


@pytest.mark.parametrize("edit", ["removed", "replaced"])
def test_the_executor_refuses_to_delete_a_protected_resource_whatever_the_plan_says(
        harness: Harness, outside: httpx.Client, edit: str) -> None:
    guarded = ("ModelDeployment/chat",)
    harness.converge(harness.desired(model_deployment("chat"), guarded=guarded))
    serial = harness.state().serial
    desired = harness.desired() if edit == "removed" else harness.desired(
        model_deployment("chat", vmSize="Standard_NC48ads_A100_v4"), guarded=guarded)
    planned = harness.plan(desired)
    assert planned.errored
    # A plan someone edited (a saved plan file with its errors taken out): apply must not
    # trust it for this.
    forged = Plan.build(planned.changes, state_lineage=planned.state_lineage,
                        state_serial=planned.state_serial)
    assert not forged.errored

    with pytest.raises(PreconditionError) as refused:
        harness.apply(forged, desired)

    assert refused.value.exit_code == EXIT_CONFLICT == 6
    assert "ModelDeployment/chat has lifecycle.preventDestroy" in refused.value.message
    assert arm(outside, "GET", deployment_path("chat")).status_code == 200
    assert harness.state().serial == serial
    assert not any(e.operation == "delete" for e in harness.events)
