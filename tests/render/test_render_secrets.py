"""A secret never reaches plan output, even when a value slipped past the planner's masking."""

from __future__ import annotations

import pytest
from render_plans import addr, sensitive_plan, sensitive_update, source_spec

from aimodels.plan.values import (
    SENSITIVE_VALUE,
    Action,
    Change,
    FieldChange,
    Plan,
    Reason,
)
from aimodels.render.plan import PLAN_FORMATS, render_plan

CANARY = "hfCANARY0secret0value0never0printed"

LEAKS = [
    pytest.param(CANARY, CANARY, id="string-credential-on-both-sides"),
    pytest.param({"fromEnv": "HF_TOKEN", "value": CANARY}, SENSITIVE_VALUE, id="nested-before"),
    pytest.param(SENSITIVE_VALUE, {"inline": {"deeper": CANARY}}, id="nested-after"),
]


def test_field_change_refuses_a_sensitive_value() -> None:
    with pytest.raises(ValueError):
        FieldChange("spec.credential", None, CANARY, sensitive=True)


@pytest.mark.parametrize("fmt", PLAN_FORMATS)
@pytest.mark.parametrize(("before", "after"), LEAKS)
def test_values_under_a_sensitive_path_are_masked_in_every_format(
        fmt: str, before: object, after: object) -> None:
    plan = Plan.build([sensitive_update(before, after)])
    rendered = render_plan(plan, fmt, color=True) + render_plan(plan, fmt)
    assert CANARY not in rendered
    assert "(sensitive value changed)" in rendered or fmt == "json"


@pytest.mark.parametrize("fmt", PLAN_FORMATS)
def test_a_plain_field_change_under_a_sensitive_path_is_masked(fmt: str) -> None:
    change = Change(addr("ModelSource/hf"), Action.UPDATE, (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,),
                    field_changes=(
                        FieldChange("spec.credential", SENSITIVE_VALUE, SENSITIVE_VALUE,
                                    sensitive=True),
                        FieldChange("spec.credential.value", "old", CANARY)),
                    before=source_spec(), after=source_spec())
    assert CANARY not in render_plan(Plan.build([change]), fmt)


def test_json_keeps_the_shape_but_not_the_value() -> None:
    plan = Plan.build([sensitive_update(CANARY, {"value": CANARY})])
    rendered = render_plan(plan, "json")
    assert rendered.count('"credential": "(sensitive value)"') == 2


def test_masked_credentials_print_as_markers() -> None:
    text = render_plan(sensitive_plan(), "text")
    assert "      ~ spec.credential: (sensitive value changed)\n" in text
    assert "      + spec.credential: (sensitive value)\n" in text
    assert '"(sensitive value)"' not in text
