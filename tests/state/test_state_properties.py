"""Properties of the state reader over generated files: whatever the bytes, and whatever JSON
sits where a field of a real state goes, reading it (for a Stack) and turning it into the
planner's inputs either works or raises an AimodelsError, never anything else (which the CLI
would report as an internal error, exit 70)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_mutation import file_contents, mutated

from aimodels.errors import AimodelsError
from aimodels.service.planning import prior_resources
from aimodels.state.local import read_state
from aimodels.state.values import StackIdentity

STACK = StackIdentity("fuzz", "local", "00000000-0000-0000-0000-000000000000", "rg-fuzz")
STRINGS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["ModelSource/x", "ModelSource/hf", "Widget/x", "a" * 64, "local", "fuzz", "rg-fuzz"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False), STRINGS)
KEYS = st.one_of(st.sampled_from(["address", "resourceId", "desired", "etag", "preventDestroy",
                                  "extra", "secretDigests", "provisioningFailed", "code",
                                  "message", "name", "target", "subscriptionId",
                                  "resourceGroup"]), st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=20)


def base_state() -> dict[str, Any]:
    """A state file as aimodels writes it: every field the reader knows, filled."""
    return {
        "formatVersion": 1, "lineage": "5d0c", "serial": 3, "digestKey": "a" * 64,
        "stack": {"name": "fuzz", "target": "local", "resourceGroup": "rg-fuzz",
                  "subscriptionId": "00000000-0000-0000-0000-000000000000"},
        "resources": [
            {"address": "ModelSource/hf", "resourceId": "/ids/hf", "etag": '"1"',
             "desired": {"sourceType": "HuggingFace"}, "preventDestroy": True,
             "extra": {"secretDigests": {"credential.secret": "hmac-sha256:00"},
                       "provisioningFailed": {"code": "C", "message": "m"}}},
            {"address": "ModelDeployment/chat", "resourceId": "/ids/chat", "etag": None,
             "desired": {"vmSize": "v"}, "preventDestroy": False, "extra": {}},
        ],
    }


def read_for_stack(content: bytes) -> None:
    """Read ``content`` as a Stack's state and make the planner's inputs of it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        path.write_bytes(content)
        try:
            prior_resources(read_state(path, STACK))
            read_state(path)  # the inspection read (`state list`) too
        except AimodelsError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_contents)
def test_arbitrary_bytes_never_escape_as_anything_but_aimodels_error(content: bytes) -> None:
    read_for_stack(content)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_in_any_field_never_escapes_as_anything_but_aimodels_error(
        data: st.DataObject) -> None:
    read_for_stack(json.dumps(mutated(data, base_state(), VALUES, STRINGS)).encode())

