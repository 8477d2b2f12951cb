"""A state whose applied specs were edited by hand stops the plan with a clear error, exit 1.

The planner reads the references of every prior applied spec (they order the deletes of
resources whose manifest entry is gone). Found by editing the quickstart's state field by
field: a ``model`` that is not an object, or a ``model.custom`` that is not a name, was an
internal error (exit 70) with a traceback.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_cases import STACK, address, desired_state, live_state, load_case

from aimodels.errors import EXIT_ERROR, AimodelsError
from aimodels.plan.drift import detect_drift
from aimodels.plan.planner import make_plan
from aimodels.plan.provider import SpecShapeError, spec_name
from aimodels.plan.values import PriorResource
from aimodels.providers.registry import default_registry

#: A value a hand edit may leave; the error must never quote it.
SECRET = "sk-do-not-print-me"

not_a_name = st.one_of(
    st.just(""), st.integers(), st.booleans(), st.floats(allow_nan=False),
    st.lists(st.just(SECRET), max_size=2), st.dictionaries(st.just("k"), st.just(SECRET)))
not_an_object = st.one_of(st.text(min_size=1).map(lambda s: SECRET + s), st.integers(),
                          st.booleans(), st.lists(st.just(SECRET), max_size=2))

DEPLOYMENTS = {
    "ModelDeployment/chat": {"aiManager": "team-alpha", "namespace": "default",
                             "model": {"custom": "tiny", "version": "1"},
                             "vmSize": "Standard_NC24ads_A100_v4"},
    "FoundryDeployment/chat": {"account": "alpha-foundry",
                               "model": {"custom": "tiny", "version": "1",
                                         "format": "safetensors"},
                               "sku": {"name": "Standard", "capacity": 1}},
}


def _plan_with_applied(addr: str, applied: dict[str, Any]) -> None:
    prior = {address(addr): PriorResource(address(addr), f"/x/{addr}", applied_spec=applied)}
    make_plan(desired_state([], STACK), live_state([]), prior, registry=default_registry())


def _refused(addr: str, applied: dict[str, Any], path: str) -> AimodelsError:
    with pytest.raises(AimodelsError) as caught:
        _plan_with_applied(addr, applied)
    error = caught.value
    assert error.exit_code == EXIT_ERROR
    assert f"The state's entry for {addr} is not what aimodels wrote" in error.message
    assert f"{path} is " in error.message and "which that field never holds" in error.message
    assert f"aimodels state rm {addr}" in (error.hint or "")
    assert SECRET not in error.message + (error.hint or "")
    return error


@pytest.mark.parametrize("addr", sorted(DEPLOYMENTS))
@given(value=not_an_object)
def test_a_model_that_is_not_an_object_is_a_damaged_state(addr: str, value: object) -> None:
    _refused(addr, {**DEPLOYMENTS[addr], "model": value}, "model")


@pytest.mark.parametrize("addr", sorted(DEPLOYMENTS))
@given(value=not_a_name)
def test_a_custom_model_that_is_not_a_name_is_a_damaged_state(addr: str, value: object) -> None:
    spec = DEPLOYMENTS[addr]
    _refused(addr, {**spec, "model": {**spec["model"], "custom": value}}, "model.custom")


@given(value=not_a_name)
def test_a_model_source_that_is_not_a_name_is_a_damaged_state(value: object) -> None:
    addr = "ModelDeployment/chat"
    _refused(addr, {**DEPLOYMENTS[addr], "modelSource": value}, "modelSource")


@pytest.mark.parametrize("addr", sorted(DEPLOYMENTS))
def test_a_well_formed_applied_spec_still_plans_its_delete(addr: str) -> None:
    """The same prior, untouched: the resource's manifest entry is gone, so it is deleted."""
    prior = {address(addr): PriorResource(address(addr), f"/x/{addr}",
                                          applied_spec=DEPLOYMENTS[addr])}
    live = live_state([{"address": addr, "resourceId": f"/x/{addr}", "body": {"id": f"/x/{addr}"}}])
    plan = make_plan(desired_state([], STACK), live, prior, registry=default_registry())
    assert [(str(c.address), c.action.value) for c in plan.changes] == [(addr, "delete")]


def test_spec_name_reads_names_and_absences() -> None:
    spec = {"model": {"custom": "tiny"}, "empty": None}
    assert spec_name(spec, "model", "custom") == "tiny"
    assert spec_name(spec, "model", "catalog") is None
    assert spec_name(spec, "empty", "custom") is None
    assert spec_name(spec, "absent") is None
    with pytest.raises(SpecShapeError, match=r"^model\.custom\.x is a list"):
        spec_name({"model": {"custom": {"x": [SECRET]}}}, "model", "custom", "x", "y")


@pytest.mark.parametrize("addr", sorted(DEPLOYMENTS))
def test_drift_refuses_the_same_damaged_state(addr: str) -> None:
    """``drift`` diffs each applied spec against Azure: the same check comes first."""
    prior = {address(addr): PriorResource(address(addr), f"/x/{addr}",
                                          applied_spec={**DEPLOYMENTS[addr], "model": [SECRET]})}
    live = live_state([{"address": addr, "resourceId": f"/x/{addr}", "body": {"id": f"/x/{addr}"}}])
    with pytest.raises(AimodelsError, match=r"is not what aimodels wrote: .* model is a list"):
        detect_drift(desired_state([], STACK), live, prior, registry=default_registry())


# --- any hand edit of any applied spec ----------------------------------------------------------

CASES = [load_case(p) for p in sorted((Path(__file__).parent / "cases").glob("*/*.yaml"))]
CASES = [c for c in CASES if any(p.applied_spec for p in c["prior"].values())]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(value, dict):
        return []
    found = []
    for key, child in value.items():
        found += [(*prefix, key), *_paths(child, (*prefix, key))]
    return found


def _edited(spec: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    copy = json.loads(json.dumps(spec))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_hand_edit_of_an_applied_spec_plans_or_is_a_clean_error(data: st.DataObject) -> None:
    """Every golden case with a prior, one field of one applied spec replaced by any JSON
    value (or a new field added): plan and drift either run, or stop with an AimodelsError;
    never any other exception (exit 70)."""
    case = data.draw(st.sampled_from(CASES))
    prior = dict(case["prior"])
    addr = data.draw(st.sampled_from(sorted(a for a, p in prior.items() if p.applied_spec)))
    spec = dict(prior[addr].applied_spec)
    path = data.draw(st.sampled_from([*_paths(spec), ("added",)]))
    prior[addr] = replace(prior[addr], applied_spec=_edited(spec, path, data.draw(json_values)))
    for run in (lambda: make_plan(case["desired"], case["live"], prior,
                                  registry=default_registry(), inputs=case["inputs"]),
                lambda: detect_drift(case["desired"], case["live"], prior,
                                     registry=default_registry(), inputs=case["inputs"])):
        try:
            run()
        except AimodelsError:
            pass
