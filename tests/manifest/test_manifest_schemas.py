"""The shipped JSON Schemas: valid Draft 2020-12, documented field by field, strict, consistent
with each other, and the same files the loader validates against."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from aimodels.manifest.schemas import (
    load_schema,
    resolve,
    schema_resource,
    schema_text,
    spec_field_paths,
    validator,
)
from aimodels.model.kinds import ALL_KINDS, ARM_KINDS

ROOT = Path(__file__).resolve().parents[2]
RFC1123 = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def subschemas(schema: Any, path: str = "#") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema object nested in ``schema``, with a JSON-pointer-like path."""
    if isinstance(schema, Mapping):
        yield path, schema
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from subschemas(sub, f"{path}/{key}/{name}")
            elif key in ("oneOf", "allOf", "anyOf"):
                for i, sub in enumerate(value):
                    yield from subschemas(sub, f"{path}/{key}/{i}")
            elif key in ("items", "additionalProperties", "propertyNames", "if", "then", "else",
                         "not"):
                yield from subschemas(value, f"{path}/{key}")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_repo_root_schemas_link_is_the_packaged_file(kind: str) -> None:
    assert (ROOT / "schemas" / f"{kind.lower()}.schema.json").read_text() == schema_text(kind)
    assert Path(str(schema_resource(kind))).is_file()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_field_has_a_description(kind: str) -> None:
    schema = load_schema(kind)
    missing = [f"{path}/properties/{name}" for path, sub in subschemas(schema)
               for name, prop in sub.get("properties", {}).items()
               if "description" not in resolve(kind, prop)
               and "/if" not in path and "not" not in prop]  # conditions, not fields
    assert missing == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_object_with_properties_is_closed(kind: str) -> None:
    open_objects = [path for path, sub in subschemas(load_schema(kind))
                    if "properties" in sub and sub.get("additionalProperties") is not False
                    and "/if" not in path and "/then" not in path and "/else" not in path]
    assert open_objects == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_pattern_is_explained(kind: str) -> None:
    unexplained = [path for path, sub in subschemas(load_schema(kind))
                   if "pattern" in sub and "patternErrorMessage" not in sub]
    assert unexplained == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_lifecycle_block_exactly_on_arm_kinds(kind: str) -> None:
    spec = load_schema(kind)["properties"]["spec"]
    assert ("lifecycle" in spec["properties"]) == (kind in ARM_KINDS)


@pytest.mark.parametrize("kind", ["Stack", "ModelSource", "CustomModel", "ModelDeployment"])
def test_names_are_rfc1123_labels(kind: str) -> None:
    assert validator(kind).is_valid(_example(kind, name="a" * 63))
    for bad in ["a" * 64, "Upper", "under_score", "-lead", "trail-", ""]:
        assert not validator(kind).is_valid(_example(kind, name=bad)), bad


def test_foundry_deployment_names_follow_cognitive_services() -> None:
    for good in ["gpt-4o_chat.v2", "GPT4o", "ab", "a" * 64]:
        assert validator("FoundryDeployment").is_valid(_example("FoundryDeployment", name=good))
    for bad in ["a", "a" * 65, "gpt 4o", "-lead", "x/y"]:
        assert not validator("FoundryDeployment").is_valid(_example("FoundryDeployment", name=bad))


def test_shared_definitions_are_identical_across_files() -> None:
    seen: dict[str, Any] = {}
    for kind in ALL_KINDS:
        for name, definition in load_schema(kind)["$defs"].items():
            assert seen.setdefault(name, definition) == definition, name
    assert seen["rfc1123Name"]["pattern"] == RFC1123 and seen["rfc1123Name"]["maxLength"] == 63


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_schema_example_is_valid(kind: str) -> None:
    assert list(validator(kind).iter_errors(load_schema(kind)["examples"][0])) == []


def test_scale_is_replicas_xor_autoscale() -> None:
    base = _example("ModelDeployment")
    both = {"replicas": 1, "autoscale": {"minReplicas": 1, "maxReplicas": 2}}
    for scale, ok in [({"replicas": 1}, True), ({"autoscale": both["autoscale"]}, True),
                      (both, False), ({}, False)]:
        doc = {**base, "spec": {**base["spec"], "scale": scale}}
        assert validator("ModelDeployment").is_valid(doc) == ok, scale


def test_credential_is_from_env_xor_key_vault() -> None:
    base = _example("ModelSource")
    uri = "https://alpha-kv.vault.azure.net/secrets/hf-token"
    for credential, ok in [({"fromEnv": "HF_TOKEN"}, True), ({"keyVaultSecretUri": uri}, True),
                           ({"fromEnv": "HF_TOKEN", "keyVaultSecretUri": uri}, False),
                           ({"value": "x"}, False), ("hf_x", False)]:
        doc = {**base, "spec": {**base["spec"], "credential": credential}}
        assert validator("ModelSource").is_valid(doc) == ok, credential


def test_ignore_changes_paths_come_from_the_schema() -> None:
    paths = spec_field_paths("ModelDeployment")
    assert {"scale.replicas", "scale.autoscale.maxReplicas", "vmSize", "overrides.*"} <= paths
    assert not any(p.startswith("lifecycle") for p in paths)
    assert "sku.capacity" in spec_field_paths("FoundryDeployment")


def test_schemas_parse_as_plain_json_files() -> None:
    for path in sorted((ROOT / "aimodels" / "schemas").glob("*.schema.json")):
        assert json.loads(path.read_text())["title"].startswith("aimodels ")


def _example(kind: str, name: str | None = None) -> dict[str, Any]:
    doc = json.loads(json.dumps(load_schema(kind)["examples"][0]))
    if name is not None:
        doc["metadata"]["name"] = name
    return doc
