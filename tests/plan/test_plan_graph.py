"""The dependency graph: orders, cycles, reach, and the apply steps of a plan."""

from __future__ import annotations

import dataclasses

import pytest

from aimodels.model.address import ResourceAddress
from aimodels.plan.graph import CycleError, Graph, Step, apply_graph
from aimodels.plan.values import Action, Change, FieldChange, Reason

MS = ResourceAddress("ModelSource", "hf")
CM = ResourceAddress("CustomModel", "llama")
MD = ResourceAddress("ModelDeployment", "chat")
FD = ResourceAddress("FoundryDeployment", "code")


def test_topological_order_puts_dependencies_first_and_breaks_ties_by_order() -> None:
    graph = Graph({"c": ["a", "b"], "b": ["a"], "a": [], "d": []})
    assert graph.topological_order() == ["a", "b", "c", "d"]
    assert graph.reverse_order() == ["d", "c", "b", "a"]


def test_edges_to_unknown_nodes_and_self_edges_are_dropped() -> None:
    graph = Graph({"a": ["zzz", "a"], "b": ["a"]})
    assert graph.dependencies("a") == frozenset()
    assert graph.topological_order() == ["a", "b"]


def test_cycle_is_reported_as_a_path() -> None:
    graph = Graph({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert graph.find_cycle() == ["a", "b", "c", "a"]
    with pytest.raises(CycleError) as raised:
        graph.topological_order()
    assert raised.value.cycle == ["a", "b", "c", "a"]
    assert "a -> b -> c -> a" in str(raised.value)


def test_no_cycle() -> None:
    assert Graph({"a": [], "b": ["a"]}).find_cycle() is None


def test_ancestors_and_descendants_are_transitive() -> None:
    graph = Graph({"src": [], "model": [], "dep": ["src", "model"], "probe": ["dep"]})
    assert graph.ancestors(["probe"]) == {"dep", "src", "model"}
    assert graph.descendants(["src"]) == {"dep", "probe"}
    assert graph.dependents("dep") == frozenset({"probe"})


def _change(address: ResourceAddress, action: Action, *deps: ResourceAddress) -> Change:
    reason = {Action.CREATE: Reason.CREATE_BECAUSE_NOT_IN_LIVE,
              Action.UPDATE: Reason.UPDATE_BECAUSE_FIELDS_CHANGED,
              Action.REPLACE: Reason.REPLACE_BECAUSE_REQUESTED,
              Action.DELETE: Reason.DELETE_BECAUSE_NOT_IN_MANIFEST}[action]
    return Change(address, action, (reason,), after={} if action is not Action.DELETE else None,
                  depends_on=deps)


def test_replace_expands_to_delete_then_create_after_dependencies() -> None:
    changes = [_change(MS, Action.CREATE), _change(CM, Action.UPDATE),
               _change(MD, Action.REPLACE, MS, CM)]
    order = [str(s) for s in apply_graph(changes).topological_order()]
    assert order.index("create ModelSource/hf") < order.index("create ModelDeployment/chat")
    assert order.index("update CustomModel/llama") < order.index("create ModelDeployment/chat")
    assert order.index("delete ModelDeployment/chat") < order.index("create ModelDeployment/chat")


def test_deletes_run_dependents_first() -> None:
    changes = [_change(MS, Action.DELETE), _change(CM, Action.DELETE),
               _change(MD, Action.DELETE, MS, CM), _change(FD, Action.DELETE, CM)]
    graph = apply_graph(changes)
    order = graph.topological_order()
    for dependent, dependency in ((MD, MS), (MD, CM), (FD, CM)):
        assert order.index(Step(dependent, "delete")) < order.index(Step(dependency, "delete"))
    assert graph.descendants([Step(MD, "delete")]) == {Step(MS, "delete"), Step(CM, "delete")}


def test_noops_have_no_steps_and_forgets_have_one() -> None:
    forget = Change(CM, Action.NOOP, (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,))
    graph = apply_graph([Change(MS, Action.NOOP, before={}, after={}), forget])
    assert graph.nodes == [Step(CM, "forget")]


def test_a_custom_model_replace_is_one_create_and_its_deployments_wait_for_it() -> None:
    changes = [_change(CM, Action.REPLACE), _change(MD, Action.REPLACE, CM),
               _change(FD, Action.UPDATE, CM)]
    graph = apply_graph(changes)
    assert Step(CM, "delete") not in graph.nodes
    order = graph.topological_order()
    # The old deployment goes only once the new weights are registered (and stays if that
    # fails): upload + register, then redeploy.
    assert order.index(Step(CM, "create")) < order.index(Step(MD, "delete"))
    assert order.index(Step(CM, "create")) < order.index(Step(FD, "update"))
    assert graph.descendants([Step(CM, "create")]) >= {Step(MD, "delete"), Step(MD, "create")}


def test_retire_runs_after_every_step_of_the_dependents() -> None:
    bump = dataclasses.replace(_change(CM, Action.UPDATE), retires=("1.0",),
                               field_changes=(FieldChange("spec.version", "1.0", "2.0"),))
    changes = [bump, _change(MD, Action.REPLACE, CM), _change(FD, Action.DELETE, CM)]
    graph = apply_graph(changes)
    retire = Step(CM, "retire")
    assert graph.dependencies(retire) == {Step(CM, "update"), Step(MD, "delete"),
                                          Step(MD, "create"), Step(FD, "delete")}
    assert graph.topological_order()[-1] == retire


def test_an_update_that_only_retires_is_the_retire_step_alone() -> None:
    only = Change(CM, Action.UPDATE, (Reason.UPDATE_BECAUSE_VERSIONS_UNUSED,), before={},
                  after={}, retires=("0.9",))
    deleted = dataclasses.replace(_change(CM, Action.DELETE), retires=("0.9",))
    assert apply_graph([only]).nodes == [Step(CM, "retire")]
    assert apply_graph([deleted]).nodes == [Step(CM, "delete")]


def test_a_replace_whose_dependency_is_replaced_too_has_no_cycle() -> None:
    changes = [_change(MS, Action.REPLACE), _change(MD, Action.REPLACE, MS)]
    order = apply_graph(changes).topological_order()
    assert order.index(Step(MD, "delete")) < order.index(Step(MS, "delete"))
