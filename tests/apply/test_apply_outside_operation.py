"""Apply against operations it did not start, operations that outlast their deadline, and
answers lost on the way.

- A ModelDeployment still ``Updating`` from a write made elsewhere: the plan warns, apply
  waits it out (a ``waiting`` progress line), then sends its write with the plan's If-Match,
  so a resource that outside write changed since the plan is refused (412), never
  overwritten.
- An operation still running at the LRO deadline is neither done nor failed: the change is
  left in flight with its handle in the journal, what depends on it is skipped, and the next
  apply re-attaches to it.
- A CustomModel register whose answer was lost is sent again and found registered, not
  reported failed (nor registered twice).

Over HTTP against a real emulator; what is injected goes through the transport's seams: the
client's sleeper (in one test it lets the outside world move while apply waits) and its
network (one that loses an answer)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apply_support import (
    Harness,
    address,
    arm,
    custom_model,
    deployment_path,
    model_deployment,
    model_source,
)
from test_apply_cli import QUICKSTART, run, set_replicas
from test_apply_recovery import recover

from aimodels.apply.events import Phase, Status
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.errors import ConflictError
from aimodels.plan.values import Action
from aimodels.state.journal import Journal

#: Long enough for a plan and the start of an apply to see the outside operation running.
LRO_SECONDS = 0.8
RUNNING = ("an operation started outside aimodels is running (provisioningState Updating); "
           "apply waits for it, then checks the ETag")


#: For the test that needs the plan and apply's first write both to land while the outside
#: operation still runs: on a loaded machine 0.8 s was sometimes over before apply wrote.
LONG_LRO_SECONDS = 2.5


def emulator_with_lro(seconds: float) -> Iterator[RunningEmulator]:
    running = start_in_thread(EmulatorConfig(lro_seconds=seconds))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def slow() -> Iterator[RunningEmulator]:
    yield from emulator_with_lro(LRO_SECONDS)


@pytest.fixture
def slower() -> Iterator[RunningEmulator]:
    yield from emulator_with_lro(LONG_LRO_SECONDS)


def start_outside_update(session: httpx.Client, name: str, replicas: int) -> dict[str, Any]:
    """A full PUT of the deployment made outside aimodels: it runs ``Updating`` for a while."""
    live = wait_settled(session, name)
    properties = {k: v for k, v in live["properties"].items()
                  if k not in ("status", "provisioningState")}
    properties["scale"] = {"manual": {"replicas": replicas}}
    response = arm(session, "PUT", deployment_path(name), {"properties": properties})
    assert response.status_code == 200, response.text
    assert response.json()["properties"]["provisioningState"] == "Updating"
    return response.json()


def wait_settled(session: httpx.Client, name: str) -> dict[str, Any]:
    for _ in range(400):
        body = arm(session, "GET", deployment_path(name)).json()
        if body["properties"]["provisioningState"] in ("Succeeded", "Failed"):
            return body
        time.sleep(0.02)
    raise AssertionError(f"{name} is still busy")


def test_an_outside_operation_is_waited_out_then_the_change_goes(
        slower: RunningEmulator, tmp_path: Path) -> None:
    harness = Harness(slower.url, tmp_path)
    with httpx.Client(base_url=slower.url, headers={"Authorization": "Bearer t"}) as outside:
        harness.converge(harness.desired(model_deployment("chat")))
        start_outside_update(outside, "chat", replicas=3)
        desired = harness.desired(model_deployment("chat", scale={"replicas": 2}))

        plan = harness.plan(desired)
        change = plan.changes[0]
        assert change.action is Action.UPDATE and RUNNING in change.warnings

        result = harness.apply(plan, desired)

        assert result.complete, result.changes
        waits = [e.message for e in harness.events_of("ModelDeployment/chat")
                 if e.phase is Phase.WAITING]
        assert waits and waits[0].startswith(
            "another operation is running on it (provisioningState Updating); retrying in ")
        live = wait_settled(outside, "chat")
        assert live["properties"]["scale"] == {"manual": {"replicas": 2}}
        assert harness.state().get("ModelDeployment/chat").etag == live["eTag"]
        assert not harness.plan(desired).summary().has_changes


def test_a_change_the_outside_operation_made_meanwhile_is_refused(
        slow: RunningEmulator, tmp_path: Path) -> None:
    """While apply waits, the outside operation ends and another outside write lands: the
    plan's ETag no longer holds, so apply's write is refused (412) and nothing is overwritten."""
    with httpx.Client(base_url=slow.url, headers={"Authorization": "Bearer t"}) as outside:
        moved: list[str] = []

        async def sleep_while_the_world_moves(seconds: float) -> None:
            waiting = any(e.phase is Phase.WAITING for e in harness.events)
            if waiting and not moved:  # apply's first wait: the outside operation ends,
                # and another outside write lands
                moved.append(start_outside_update(outside, "chat", replicas=4)["eTag"])
            await asyncio.sleep(seconds)

        harness = Harness(slow.url, tmp_path, sleep=sleep_while_the_world_moves)
        harness.converge(harness.desired(model_deployment("chat")))
        start_outside_update(outside, "chat", replicas=3)
        desired = harness.desired(model_deployment("chat", scale={"replicas": 2}),
                                  model_source("hf"))
        plan = harness.plan(desired)
        assert RUNNING in plan.change_for(address("ModelDeployment/chat")).warnings

        result = harness.apply(plan, desired)

        chat = result.get(address("ModelDeployment/chat"))
        assert chat is not None and chat.status is Status.FAILED
        assert isinstance(chat.error, ConflictError) and chat.error.status == 412
        assert result.get(address("ModelSource/hf")).status is Status.DONE
        assert result.refused  # so `aimodels apply` exits 6 (ApplyRefused), as a stale plan
        live = wait_settled(outside, "chat")
        assert live["properties"]["scale"] == {"manual": {"replicas": 4}}
        assert live["eTag"] == moved[0]


def test_an_idle_resource_answering_409_is_a_conflict_not_a_wait(
        harness: Harness, outside: httpx.Client) -> None:
    """Only a 409 while an operation runs on the resource is waited out: a ModelSource still
    used by a deployment refuses its delete (409 ModelSourceInUse), reported at once."""
    harness.converge(harness.desired(model_source("hf"), model_deployment("chat",
                                                                          modelSource="hf")))
    plan = harness.plan(harness.desired(model_deployment("chat", modelSource="hf")))
    assert [c.action for c in plan.changes if c.action is not Action.NOOP] == [Action.DELETE]

    result = harness.apply(plan, harness.desired(model_deployment("chat", modelSource="hf")))

    assert result.failed[0].error.code == "ModelSourceInUse"
    assert not result.refused  # a failure (exit 7), not a conflict with the plan
    assert not [e for e in harness.events if e.phase is Phase.WAITING]


def test_an_operation_outlasting_its_deadline_is_left_in_flight_for_the_next_apply(
        slow: RunningEmulator, tmp_path: Path) -> None:
    harness = Harness(slow.url, tmp_path, lro_timeout=0.2)
    desired = harness.desired(model_source("hf"), model_deployment("chat", modelSource="hf"),
                              model_deployment("solo"))
    plan = harness.plan(desired)
    source = address("ModelSource/hf")

    result = harness.apply(plan, desired)

    # ModelSource answers at once; the two deployments' operations outlast the 0.2 s deadline
    assert result.get(source).status is Status.DONE
    for name in ("chat", "solo"):
        change = result.get(address(f"ModelDeployment/{name}"))
        assert change.status is Status.IN_FLIGHT, change
        assert "did not finish within 0.2 s" in change.message
        assert "the next apply re-attaches to it" in change.message
    assert result.failed == () and not result.complete
    assert "2 still running in Azure" in result.summary()
    pending = Journal(harness.folder / ".aimodels").pending()
    assert sorted(i.address for i in pending) == ["ModelDeployment/chat", "ModelDeployment/solo"]
    assert all("lro" in i.details for i in pending)

    harness.lro_timeout = 60.0
    assert sorted(recover(harness)) == [
        "ModelDeployment/chat: created by an interrupted run; now in the state",
        "ModelDeployment/solo: created by an interrupted run; now in the state"]
    assert not harness.plan(desired).summary().has_changes


def test_what_depends_on_a_change_still_running_is_skipped_saying_so(
        slow: RunningEmulator, tmp_path: Path) -> None:
    harness = Harness(slow.url, tmp_path)
    harness.converge(harness.desired(model_source("hf"), model_deployment("chat",
                                                                          modelSource="hf")))
    empty = harness.desired()
    plan = harness.plan(empty)
    assert [c.action for c in plan.changes] == [Action.DELETE, Action.DELETE]
    harness.lro_timeout = 0.2

    result = harness.apply(plan, empty)

    # the deployment goes first; its delete outlasts the deadline, so the source waits
    chat = result.get(address("ModelDeployment/chat"))
    assert chat.status is Status.IN_FLIGHT and "did not finish" in chat.message
    assert result.get(address("ModelSource/hf")).status is Status.SKIPPED
    skipped = [e.message for e in harness.events_of("ModelSource/hf")
               if e.phase is Phase.SKIPPED]
    assert skipped == ["upstream ModelDeployment/chat is still running in Azure"]

    harness.lro_timeout = 60.0
    assert recover(harness) == ["ModelDeployment/chat: deleted by an interrupted run; dropped "
                                "from the state"]
    assert [c.address for c in harness.plan(empty).changes] == [address("ModelSource/hf")]


def test_apply_says_it_waits_for_the_outside_operation_then_exits_0(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Through the CLI: the plan apply prints carries the warning, the progress says what it
    waits for, and the run ends complete (exit 0) with nothing left to plan."""
    stack = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, stack, ignore=shutil.ignore_patterns(".aimodels"))
    with start_in_thread(EmulatorConfig(lro_seconds=2.5)) as emulator, \
            httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as outside:
        assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0
        start_outside_update(outside, "phi4-chat", replicas=3)
        set_replicas(stack, 2)

        code, out, err = run(capsys, emulator, stack, "apply", "--yes")

        assert code == 0, out + err
        assert f"warning: {RUNNING}" in out
        assert "ModelDeployment/phi4-chat: updating (0 s): another operation is running on " \
               "it (provisioningState Updating); retrying in " in out
        assert "Apply complete: 1 done." in out
        assert run(capsys, emulator, stack, "plan", "--detailed-exitcode")[0] == 0
        live = wait_settled(outside, "phi4-chat")
        assert live["properties"]["scale"] == {"manual": {"replicas": 2}}


class LosesAnswers(httpx.AsyncHTTPTransport):
    """The network, except that the answers to the first ``lost`` requests matching
    ``METHOD path`` never come back: the request reached the service, the reply is lost."""

    def __init__(self, target: str, lost: int = 1) -> None:
        super().__init__()
        self.target, self.lost, self.seen = target, lost, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if f"{request.method} {request.url.path}" == self.target and self.seen < self.lost:
            self.seen += 1
            await response.aclose()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_register_whose_answer_was_lost_is_found_not_repeated(
        harness: Harness, tmp_path: Path) -> None:
    """POST /custom-models is sent again after a lost answer (or a 5xx): the registry refuses
    the second (409, the version exists), and reading the version back finds our upload."""
    (tmp_path / "tiny.safetensors").write_bytes(b"\x10" + b"\x00" * 7 + b"{}" + b"w" * 300)
    harness.transport = LosesAnswers("POST /custom-models")
    desired = harness.desired(custom_model("tiny", "./tiny.safetensors"))

    result = harness.converge(desired)

    assert harness.transport.seen == 1
    assert result.get(address("CustomModel/tiny")).status is Status.DONE
    assert not harness.plan(desired).summary().has_changes
