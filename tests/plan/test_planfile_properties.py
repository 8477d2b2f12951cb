"""Properties of the saved-plan reader over generated files: whatever the bytes, and whatever
JSON sits where a field of a real plan goes (with the digest recomputed, as a forger would),
reading it, checking it against protection and showing it as apply does either works or raises
an AimodelsError, never anything else (which the CLI would report as exit 70)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_mutation import file_contents, mutated

from aimodels.apply.protection import refuse_protected_deletes
from aimodels.errors import AimodelsError, SourceLocation, error, warning
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState, Stack
from aimodels.plan.planfile import (
    document_digest,
    plan_from_document,
    read_plan_file,
    write_plan_file,
)
from aimodels.plan.values import Action, Change, CostEstimate, FieldChange, Plan, Reason
from aimodels.render.plan import render_plan
from aimodels.state.values import ResourceState, State
from aimodels.transport.redact import scrub_secrets

STRINGS = st.one_of(st.text(max_size=12), st.sampled_from([
    "delete", "replace", "no-op", "ModelSource/hf", "ModelSource/old", "(sensitive value)",
    "replace_because_requested", "1.0", "error", "USD"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False, allow_infinity=False), STRINGS)
KEYS = st.one_of(st.sampled_from(["action", "address", "after", "before", "path",
                                  "forcesReplacement", "sensitive", "severity", "summary",
                                  "currency", "hourlyAfter", "vmSize", "scale"]),
                 st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=20)
SOURCE = ResourceAddress("ModelSource", "hf")
CHAT = ResourceAddress("ModelDeployment", "chat")


def base_plan() -> Plan:
    """A plan using every field of the document: a replace with field changes and a cost, a
    delete, a forget, diagnostics with and without a location, targets."""
    replace = Change(
        CHAT, Action.REPLACE, (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,),
        field_changes=(FieldChange("spec.vmSize", "a", "b", forces_replacement=True),
                       FieldChange("spec.credential.secret", None, "(sensitive value)",
                                   sensitive=True)),
        before={"vmSize": "a"}, after={"vmSize": "b", "scale": {"replicas": 2}},
        precondition_etag='"e1"', resource_id="/ids/chat", live_resource_id="/ids/old",
        replace_paths=("spec.vmSize",), depends_on=(SOURCE,), warnings=("w",),
        cost=CostEstimate("USD", 1.5, 3.0), notes=("upload 1 GB",))
    delete = Change(SOURCE, Action.DELETE, (Reason.DELETE_BECAUSE_NOT_IN_MANIFEST,),
                    before={"sourceType": "HuggingFace"}, precondition_etag='"2"',
                    resource_id="/ids/hf")
    forget = Change(ResourceAddress("ModelSource", "old"), Action.NOOP,
                    (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,), resource_id="/ids/old")
    return Plan.build([replace, delete, forget],
                      [warning("careful", "detail", address=str(CHAT),
                               source=SourceLocation("a.yaml", 3, 4), path="spec.vmSize"),
                       error("bad")],
                      desired_digest="d" * 64, state_lineage="lin", state_serial=7,
                      targets=(CHAT,))


def base_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        write_plan_file(path, base_plan(), scrub=scrub_secrets)
        document: dict[str, Any] = json.loads(path.read_text())
        return document


BASE = base_document()
EMPTY = DesiredState(Stack("fuzz", "local", "s", "rg", "eastus", SourceLocation("s.yaml"),
                           Path(".")), {})
#: Guards a resource the base plan only forgets: a mutation that deletes it must be refused.
GUARDED = State("lin", 7, "a" * 64, (ResourceState("ModelSource/old", "/ids/old",
                                                   prevent_destroy=True),))


def apply_reads(content: bytes) -> None:
    """What ``apply FILE`` does with the file before it talks to Azure: read and check it,
    refuse protected deletes, and show it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        path.write_bytes(content)
        try:
            plan = plan_from_document(read_plan_file(path))
            refuse_protected_deletes(plan.changes, EMPTY, GUARDED)
            render_plan(plan, "text", color=False)
        except AimodelsError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_contents)
def test_arbitrary_bytes_never_escape_as_anything_but_aimodels_error(content: bytes) -> None:
    apply_reads(content)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), redigest=st.booleans())
def test_any_json_in_any_field_never_escapes_as_anything_but_aimodels_error(
        data: st.DataObject, redigest: bool) -> None:
    document = mutated(data, json.loads(json.dumps(BASE)), VALUES, STRINGS)
    if redigest and isinstance(document, dict):
        document["digest"] = document_digest(document)
    apply_reads(json.dumps(document).encode())


def test_the_untouched_base_document_is_read_whole() -> None:
    """The generator starts from a plan the reader accepts, so mutations test the checks."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        path.write_text(json.dumps(BASE))
        assert plan_from_document(read_plan_file(path)) == base_plan()
