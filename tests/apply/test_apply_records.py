"""What apply leaves behind and reads back: the state written under concurrency, journal intents
before each write, no secret anywhere, saved plans read back whole, and weights digests equal
to the planner's."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from apply_support import Harness, address, model_deployment, model_source, resource

from aimodels.apply.events import ApplyEvent, Phase
from aimodels.apply.state_store import StateStore
from aimodels.apply.upload import folder_digest, weights_files
from aimodels.errors import PreconditionError, SourceLocation, error, warning
from aimodels.plan.planfile import plan_from_document
from aimodels.plan.values import (
    Action,
    Change,
    CostEstimate,
    FieldChange,
    Plan,
    Reason,
)
from aimodels.service.inputs import hash_weights
from aimodels.state.journal import Journal
from aimodels.state.local import read_state
from aimodels.state.values import ResourceState, State


def test_concurrent_state_writes_all_land(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = StateStore(path, State.new())

    async def write_all() -> None:
        await asyncio.gather(*(store.put(ResourceState(f"ModelSource/s{i}", f"/id/{i}"))
                               for i in range(20)))
        await store.remove("ModelSource/s3")

        await store.finish()

    asyncio.run(write_all())

    on_disk = read_state(path)
    assert len(on_disk.resources) == 19 and "ModelSource/s3" not in on_disk.addresses
    assert on_disk.serial == 2  # group commits: the first change, then the rest at the end


def test_intent_is_journaled_before_the_write_and_cleared_after(harness: Harness) -> None:
    journal = Journal(harness.state_path.parent)
    pending_while_running: list[list[str]] = []

    def watch(event: ApplyEvent) -> None:
        if event.phase is Phase.POLLING:
            pending_while_running.append([e.address for e in journal.pending()])

    harness.events = _Recorder(watch)
    desired = harness.desired(model_deployment("chat"))
    harness.converge(desired)

    assert ["ModelDeployment/chat"] in pending_while_running
    assert not journal.path.exists()


def test_no_secret_in_events_state_or_journal(harness: Harness) -> None:
    token = "hf_do_not_leak_4242"
    harness.env["HF_TOKEN"] = token
    desired = harness.desired(model_source("hf", credential={"fromEnv": "HF_TOKEN"}),
                              model_deployment("chat", modelSource="hf"))
    result = harness.converge(desired)

    shown = " ".join(e.describe() for e in harness.events) + repr(result)
    assert token not in shown
    assert token not in harness.state_path.read_text()
    folder = harness.state_path.parent
    assert all(token not in p.read_text(errors="ignore") for p in folder.glob("*")
               if p.is_file())


def test_saved_plan_reads_back_equal() -> None:
    change = Change(
        address("ModelDeployment/chat"), Action.REPLACE, (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,),
        field_changes=(FieldChange("spec.vmSize", "a", "b", forces_replacement=True),
                       FieldChange("spec.credential.secret", "(sensitive value)",
                                   "(sensitive value)", sensitive=True)),
        before={"vmSize": "a"}, after={"vmSize": "b", "scale": {"replicas": 2}},
        precondition_etag='"e1"', resource_id="/new", live_resource_id="/old",
        replace_paths=("spec.vmSize",), depends_on=(address("ModelSource/hf"),),
        warnings=("w",), cost=CostEstimate("USD", 1.5, 3.0), notes=("upload 1 GB",))
    forget = Change(address("ModelSource/old"), Action.NOOP,
                    (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,), resource_id="/gone")
    plan = Plan.build([change, forget],
                      [warning("careful", "detail", address="ModelDeployment/chat",
                               source=SourceLocation("a.yaml", 3, 4), path="spec.vmSize"),
                       error("bad")],
                      desired_digest="d" * 64, state_lineage="lin", state_serial=7,
                      targets=(address("ModelDeployment/chat"),))

    assert plan_from_document(plan.to_dict()) == plan


def test_upload_digest_matches_the_planners(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    (folder / "b").mkdir(parents=True)
    (folder / "a.json").write_text("{}")
    (folder / "b" / "x.safetensors").write_bytes(b"x" * 1000)
    entries = [(f.relative, f.size, hashlib.sha256(f.path.read_bytes()).hexdigest())
               for f in weights_files(folder)]
    planned = hash_weights(resource("CustomModel", "m", {"path": "./w"}, tmp_path))

    assert planned is not None
    assert folder_digest(entries) == planned.sha256
    assert [e[0] for e in entries] == ["a.json", "b/x.safetensors"]


class _Recorder(list):  # type: ignore[type-arg]
    """A list of events that also calls ``watch`` on each one as it arrives."""

    def __init__(self, watch) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.watch = watch

    def append(self, event: ApplyEvent) -> None:  # type: ignore[override]
        super().append(event)
        self.watch(event)


def test_a_state_that_cannot_be_written_stops_the_run_with_its_own_error(
        harness: Harness) -> None:
    def intruder(event: ApplyEvent) -> None:
        if event.phase is Phase.STARTED:  # another writer, despite the lock
            harness.state_path.parent.mkdir(parents=True, exist_ok=True)
            harness.state_path.write_text(json.dumps(State.new().to_dict()))

    harness.events = _Recorder(intruder)
    desired = harness.desired(model_source("hf"))

    with pytest.raises(PreconditionError, match="changed since it was read"):
        harness.apply(harness.plan(desired), desired)
    assert [e.address for e in Journal(harness.state_path.parent).pending()] == \
        ["ModelSource/hf"]
