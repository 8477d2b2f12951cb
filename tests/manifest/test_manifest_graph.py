"""Dependencies between desired resources and the cycle check kept for the graph."""

from __future__ import annotations

import os
from pathlib import Path

from aimodels.manifest.graph import dependencies, find_cycles
from aimodels.manifest.load import load_manifests
from aimodels.model.address import ResourceAddress

CASES = Path(__file__).parent / "cases"


def test_no_cycles_in_a_tree() -> None:
    assert find_cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []


def test_a_self_reference_is_a_cycle() -> None:
    assert find_cycles({"a": ["a"]}) == [("a",)]


def test_each_cycle_is_reported_once_from_where_it_starts() -> None:
    edges = {"x": ["a"], "a": ["b"], "b": ["c"], "c": ["a"], "d": ["c"]}
    assert find_cycles(edges) == [("a", "b", "c")]


def test_separate_cycles_are_all_found() -> None:
    edges = {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": []}
    assert sorted(find_cycles(edges)) == [("a", "b"), ("c", "d")]


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    chain = {i: [i + 1] for i in range(20000)}
    assert find_cycles(chain) == []
    chain[20000] = [0]
    (cycle,) = find_cycles(chain)
    assert len(cycle) == 20001


def test_dependencies_point_at_resources_of_the_set_only() -> None:
    desired = load_manifests([str(CASES / "good-one-file-all-kinds")],
                             env={"HF_TOKEN": "x"}, strict_env=True).desired
    deps = dependencies(desired)
    custom = ResourceAddress("CustomModel", "llama-code")
    source = ResourceAddress("ModelSource", "hf-private")
    assert deps[ResourceAddress("ModelDeployment", "phi4-chat")] == (custom, source)
    assert deps[ResourceAddress("FoundryDeployment", "gpt4o-chat")] == (custom,)
    assert deps[custom] == () and deps[source] == ()
    assert find_cycles(deps) == []


def test_an_external_model_source_is_no_dependency() -> None:
    desired = load_manifests([str(CASES / "good-external-model-source")], env=os.environ,
                             strict_env=False).desired
    assert dependencies(desired) == {ResourceAddress("ModelDeployment", "phi4-chat"): ()}
