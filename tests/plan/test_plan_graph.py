"""The dependency graph: orders, cycles, reach, and the apply steps of a plan."""

from __future__ import annotations

import pytest

from aimodels.model.address import ResourceAddress
from aimodels.plan.graph import CycleError, Graph, Step, apply_graph
from aimodels.plan.values import Action, Change, Reason

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
