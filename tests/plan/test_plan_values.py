"""Plan values: invariants, deterministic JSON, summaries and status flags."""

from __future__ import annotations

import json

import pytest

from aimodels.errors import error, warning
from aimodels.model.address import ResourceAddress
from aimodels.plan.values import (
    FORMAT_VERSION,
    SENSITIVE_VALUE,
    Action,
    Change,
    FieldChange,
    Plan,
    Reason,
)

MD = ResourceAddress("ModelDeployment", "chat")
MS = ResourceAddress("ModelSource", "hf")


def test_actions_have_terraform_symbols_and_json_names() -> None:
    assert [a.symbol for a in Action] == [" ", "+", "~", "-/+", "-"]
    assert [a.value for a in Action] == ["no-op", "create", "update", "replace", "delete"]


def test_reasons_read_as_sentences() -> None:
    for reason in Reason:
        assert reason.sentence.endswith(".") and reason.value == reason.name.lower()


def test_a_change_needs_a_reason_and_replace_paths_only_on_replace() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        Change(MD, Action.UPDATE)
    with pytest.raises(ValueError, match="replace paths"):
        Change(MD, Action.UPDATE, (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,),
               replace_paths=("spec.vmSize",))


def test_a_sensitive_field_change_cannot_carry_a_value() -> None:
    with pytest.raises(ValueError, match="must not carry a value"):
        FieldChange("spec.credential.secret", "old-token", SENSITIVE_VALUE, sensitive=True)
    assert FieldChange("spec.credential.secret", None, SENSITIVE_VALUE, sensitive=True)


def test_to_dict_sorts_keys_and_changes_whatever_the_input_order() -> None:
    a = Change(MD, Action.CREATE, (Reason.CREATE_BECAUSE_NOT_IN_LIVE,),
               after={"vmSize": "A", "model": {"catalog": "x", "b": 1}})
    b = Change(MS, Action.NOOP, before={}, after={})
    first = Plan.build([a, b]).to_dict()
    second = Plan.build([b, a]).to_dict()
    assert json.dumps(first) == json.dumps(second)
    assert list(first["changes"][0]["after"]) == ["model", "vmSize"]
    assert [c["address"] for c in first["changes"]] == ["ModelDeployment/chat", "ModelSource/hf"]
    assert first["formatVersion"] == FORMAT_VERSION


def test_summary_and_flags() -> None:
    create = Change(MD, Action.CREATE, (Reason.CREATE_BECAUSE_NOT_IN_LIVE,), after={})
    forget = Change(MS, Action.NOOP, (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,))
    plan = Plan.build([create, forget])
    assert plan.summary().to_dict() == {"create": 1, "delete": 0, "forget": 1, "replace": 0,
                                        "unchanged": 0, "update": 0}
    assert plan.applyable and not plan.errored and forget.is_forget
    empty = Plan.build([Change(MD, Action.NOOP, before={}, after={})])
    assert not empty.applyable and not empty.summary().has_changes


def test_with_diagnostics_derives_the_flags_again() -> None:
    plan = Plan.build([Change(MD, Action.CREATE, (Reason.CREATE_BECAUSE_NOT_IN_LIVE,), after={})],
                      desired_digest="abc", state_serial=4)
    assert plan.with_diagnostics([warning("quota is close")]).applyable
    failed = plan.with_diagnostics([error("no quota", address=str(MD))])
    assert failed.errored and not failed.applyable
    assert (failed.desired_digest, failed.state_serial) == ("abc", 4)
    assert failed.to_dict()["diagnostics"][0]["summary"] == "no quota"
