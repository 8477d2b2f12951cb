"""A state whose applied specs were edited by hand stops the plan with a clear error, exit 1.

The planner reads the references of every prior applied spec (they order the deletes of
resources whose manifest entry is gone). Found by editing the quickstart's state field by
field: a ``model`` that is not an object, or a ``model.custom`` that is not a name, was an
internal error (exit 70) with a traceback.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plan_cases import STACK, address, desired_state, live_state

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
    assert f"{path} is " in error.message and "where a name belongs" in error.message
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
