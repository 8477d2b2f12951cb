"""The compiled happy path of schema validation (``aimodels.fastschema``): a valid manifest or
state is never run through jsonschema (that was most of plan's CPU), and the compiled check
never calls valid what jsonschema refuses, whatever JSON sits in a manifest or a state."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_mutation import mutated
from test_state_properties import STRINGS, VALUES, base_state

from aimodels.fastschema import compiled
from aimodels.manifest import checks
from aimodels.manifest.load import load_manifests
from aimodels.manifest.schemas import load_schema
from aimodels.state import document
from aimodels.state.values import STATE_SCHEMA

QUICKSTART = Path(__file__).parents[2] / "examples" / "quickstart"
#: One valid document of each kind, as the quickstart declares them.
DOCUMENTS = [doc for file in sorted(QUICKSTART.glob("*.yaml"))
             for doc in yaml.safe_load_all(file.read_text()) if doc]


def test_valid_manifests_are_not_run_through_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(kind: str) -> None:
        raise AssertionError(f"jsonschema ran on a valid {kind}")

    monkeypatch.setattr(checks, "validator", refuse)
    loaded = load_manifests([str(QUICKSTART)], env={"HF_TOKEN": "x"}, strict_env=False)
    assert len(loaded.desired.resources) == len(DOCUMENTS) - 1 >= 4  # all but the Stack


def test_an_invalid_manifest_is_still_explained(tmp_path: Path) -> None:
    for doc in DOCUMENTS:
        (tmp_path / f"{doc['kind']}.yaml").write_text(yaml.safe_dump(doc))
    source = yaml.safe_load((QUICKSTART / "model-deployment.yaml").read_text())
    source["spec"]["vmSzie"] = source["spec"].pop("vmSize")
    (tmp_path / "ModelDeployment.yaml").write_text(yaml.safe_dump(source))
    with pytest.raises(Exception) as raised:
        load_manifests([str(tmp_path)], env={"HF_TOKEN": "x"}, strict_env=True)
    assert "vmSize" in str(getattr(raised.value, "diagnostics", raised.value))


def test_a_valid_state_is_not_run_through_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("jsonschema ran on a valid state")

    monkeypatch.setattr(jsonschema, "Draft202012Validator", refuse)
    state = document.parse_state("state file x", json.dumps(base_state()).encode())
    assert len(state.resources) == 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compiled_check_never_passes_what_jsonschema_refuses_in_a_state(data: Any) -> None:
    doc = mutated(data, base_state(), VALUES, STRINGS)
    if compiled(STATE_SCHEMA)(doc):
        assert not list(jsonschema.Draft202012Validator(STATE_SCHEMA).iter_errors(doc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_compiled_check_never_passes_what_jsonschema_refuses_in_a_manifest(data: Any) -> None:
    base = copy.deepcopy(data.draw(st.sampled_from(DOCUMENTS)))
    schema = load_schema(base["kind"])
    doc = mutated(data, base, VALUES, STRINGS)
    if compiled(schema)(doc):
        assert not list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
