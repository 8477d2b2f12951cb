"""The service functions the ``state`` and ``force-unlock`` commands call."""

from __future__ import annotations

import pytest

from aimodels.errors import EXIT_USAGE, AimodelsError, PreconditionError, UsageError
from aimodels.service.state import (
    force_unlock,
    list_resources,
    rehome_state,
    remove_resource,
    show_resource,
)
from aimodels.state.local import read_state, write_state
from aimodels.state.lock import acquire_lock, read_lock
from aimodels.state.values import ResourceState, StackIdentity

OLD = StackIdentity("alpha", "azure", "sub", "rg-old")
NEW = StackIdentity("alpha", "azure", "sub", "rg-new")


@pytest.fixture
def state_path(tmp_path):
    path = tmp_path / ".aimodels" / "state.json"
    state = read_state(path)
    for address in ("ModelSource/hf", "ModelDeployment/chat"):
        state = state.with_resource(ResourceState(address, f"/ids/{address}"))
    write_state(path, state)
    return path


def test_list_resources_is_sorted_and_empty_without_state(state_path, tmp_path):
    assert [r.address for r in list_resources(state_path)] == [
        "ModelDeployment/chat",
        "ModelSource/hf",
    ]
    assert list_resources(tmp_path / "none" / "state.json") == []


def test_show_resource(state_path):
    assert show_resource(state_path, "ModelSource/hf").resource_id == "/ids/ModelSource/hf"


def test_show_an_address_not_in_state(state_path):
    with pytest.raises(AimodelsError) as info:
        show_resource(state_path, "ModelSource/other")
    assert "ModelSource/other is not in the state" in info.value.message
    assert "state list" in info.value.hint


def test_a_malformed_address_is_a_usage_error(state_path):
    with pytest.raises(UsageError) as info:
        show_resource(state_path, "chat")
    assert info.value.exit_code == EXIT_USAGE


def test_remove_resource_writes_once_and_releases_the_lock(state_path):
    removed = remove_resource(state_path, "ModelSource/hf")
    assert removed.address == "ModelSource/hf"
    after = read_state(state_path)
    assert after.addresses == ["ModelDeployment/chat"]
    assert after.serial == 2
    assert read_lock(state_path.parent) is None


def test_remove_resource_waits_for_no_one_while_locked(state_path):
    with acquire_lock(state_path.parent, "aimodels apply"):
        with pytest.raises(PreconditionError):
            remove_resource(state_path, "ModelSource/hf")
    assert read_state(state_path).serial == 1


def test_remove_an_unknown_address_changes_nothing(state_path):
    with pytest.raises(AimodelsError):
        remove_resource(state_path, "ModelSource/other")
    assert read_state(state_path).serial == 1
    assert read_lock(state_path.parent) is None


def test_force_unlock_by_state_path(state_path):
    held = acquire_lock(state_path.parent, "aimodels apply")
    assert force_unlock(state_path, held.info.id) == held.info
    assert read_lock(state_path.parent) is None


def test_rehome_records_the_new_stack_under_the_lock(state_path):
    seen = read_state(state_path)
    written = rehome_state(state_path, NEW, seen)
    assert written.serial == seen.serial + 1 and written.lineage == seen.lineage
    assert read_state(state_path, NEW).resources == seen.resources
    assert read_lock(state_path.parent) is None


def test_rehome_refuses_when_the_state_moved_since_it_was_shown(state_path):
    seen = read_state(state_path)
    write_state(state_path, seen.without("ModelSource/hf"))
    with pytest.raises(PreconditionError, match="changed since it was read"):
        rehome_state(state_path, NEW, seen)
    assert read_state(state_path).stack is None


def test_rehome_waits_for_no_one_while_locked(state_path):
    with acquire_lock(state_path.parent, "aimodels apply"), \
            pytest.raises(PreconditionError, match="State is locked"):
        rehome_state(state_path, NEW, read_state(state_path))


def test_remove_refuses_a_state_of_another_stack(state_path):
    write_state(state_path, read_state(state_path, OLD))
    with pytest.raises(AimodelsError, match="belongs to another Stack"):
        remove_resource(state_path, "ModelSource/hf", stack=NEW)
    assert read_state(state_path).get("ModelSource/hf") is not None
