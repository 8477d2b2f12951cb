"""``State.get``, ``with_resource`` and ``without`` find an address by binary search (apply
calls them once per change, so a scan made an apply of N changes O(N²)); they must behave
exactly as the scans did: a dict of address to entry, kept sorted by address."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aimodels.state.values import ResourceState, State

NAMES = st.sampled_from(["a", "b", "b0", "ba", "c", "z", "A", "_", "a-1", "a.b"])
ADDRESSES = st.builds(lambda kind, name: f"{kind}/{name}",
                      st.sampled_from(["ModelSource", "ModelDeployment", "CustomModel"]), NAMES)
OPERATIONS = st.lists(st.tuples(st.sampled_from(["put", "drop"]), ADDRESSES,
                                st.integers(0, 9)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(OPERATIONS, st.lists(ADDRESSES, max_size=10))
def test_state_changes_match_a_sorted_dict(operations: list[tuple[str, str, int]],
                                           probes: list[str]) -> None:
    state, model = State.new(), {}
    for operation, address, version in operations:
        if operation == "put":
            entry = ResourceState(address, f"/ids/{address}/{version}")
            state, model[address] = state.with_resource(entry), entry
        else:
            state = state.without(address)
            model.pop(address, None)
        assert state.resources == tuple(model[a] for a in sorted(model))
    for address in [*probes, *model]:
        assert state.get(address) == model.get(address)


def test_a_state_read_from_a_file_is_searched_in_its_sorted_order() -> None:
    data = State.new().to_dict()
    data["resources"] = [{"address": a, "resourceId": f"/ids/{a}"}
                         for a in ("ModelSource/z", "CustomModel/m", "ModelSource/a")]
    state = State.from_dict(data)

    assert [r.address for r in state.resources] == ["CustomModel/m", "ModelSource/a",
                                                    "ModelSource/z"]
    assert state.get("ModelSource/z") is not None and state.get("ModelSource/b") is None
    assert state.without("ModelSource/b") == state


@settings(max_examples=200, deadline=None)
@given(OPERATIONS, st.integers(1, 8))
def test_changes_merged_in_batches_match_one_at_a_time(operations: list[tuple[str, str, int]],
                                                       batch: int) -> None:
    """apply's StateStore keeps the changes since its last write by address and merges them
    only to write (``with_changes``): the same state as putting and dropping one by one."""
    one_by_one = merged = State.new()
    pending: dict[str, ResourceState | None] = {}
    for count, (operation, address, version) in enumerate(operations, 1):
        entry = ResourceState(address, f"/ids/{address}/{version}")
        one_by_one = one_by_one.with_resource(entry) if operation == "put" \
            else one_by_one.without(address)
        pending[address] = entry if operation == "put" else None
        if count % batch == 0:
            merged, pending = merged.with_changes(pending), {}
    assert merged.with_changes(pending) == one_by_one


def test_a_state_built_with_unsorted_resources_is_sorted_and_searchable() -> None:
    entries = tuple(ResourceState(f"ModelSource/{name}", f"/ids/{name}")
                    for name in ("gone", "free", "kept"))
    state = State("lineage", 1, "a" * 64, entries)

    assert [r.address for r in state.resources] == ["ModelSource/free", "ModelSource/gone",
                                                    "ModelSource/kept"]
    assert all(state.get(entry.address) == entry for entry in entries)
