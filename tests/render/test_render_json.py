"""The JSON plan document and schemas/plan.schema.json: every rendered plan validates."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from render_plans import CASES, create, large_plan, replace_plan

from aimodels.plan.values import CostEstimate, Plan
from aimodels.render.plan_json import render_json

SCHEMA_PATH = Path(__file__).parents[2] / "schemas" / "plan.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("case", [pytest.param(name, id=name) for name in CASES])
def test_every_case_renders_a_valid_document(case: str) -> None:
    build, _ = CASES[case]
    document = json.loads(render_json(build()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert errors == []


def test_the_document_is_the_plan_dict_sorted_and_indented() -> None:
    plan = replace_plan()
    assert render_json(plan) == json.dumps(plan.to_dict(), sort_keys=True, indent=2)


def test_the_schema_refuses_undocumented_fields_and_other_major_versions() -> None:
    document = json.loads(render_json(replace_plan()))
    assert VALIDATOR.is_valid(document)
    assert not VALIDATOR.is_valid({**document, "formatVersion": "2.0"})
    assert VALIDATOR.is_valid({**document, "formatVersion": "1.7"})
    assert not VALIDATOR.is_valid({**document, "surprise": 1})
    change = {**document["changes"][0], "action": "explode"}
    assert not VALIDATOR.is_valid({**document, "changes": [change]})


def test_the_schema_refuses_a_value_on_a_sensitive_field() -> None:
    document = json.loads(render_json(replace_plan()))
    leaked = {"path": "spec.credential", "before": None, "after": "hf_abc123",
              "forcesReplacement": False, "sensitive": True}
    change = {**document["changes"][0], "fieldChanges": [leaked]}
    assert not VALIDATOR.is_valid({**document, "changes": [change]})


def test_every_property_in_the_schema_is_described() -> None:
    undocumented = [path for path, prop in _properties(SCHEMA, "$")
                    if "description" not in prop and "$ref" not in prop]
    assert undocumented == []


def test_the_large_plan_validates_too() -> None:
    assert VALIDATOR.is_valid(json.loads(render_json(large_plan(300))))


def test_a_price_that_is_not_a_number_is_refused_rather_than_written() -> None:
    plan = Plan.build([create("x", cost=CostEstimate(hourly_after=math.nan))])
    with pytest.raises(ValueError):
        render_json(plan)


def _properties(node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every (path, schema) of a named property in the schema; conditions (if/then) name none."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found += [(f"{path}.{name}", prop) for name, prop in value.items()]
            if key not in ("if", "then", "else"):
                found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _properties(item, f"{path}[{index}]")
    return found
