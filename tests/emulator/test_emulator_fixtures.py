"""The fixtures format: the built-in data follows fixtures/schema.yaml, a ``--fixtures`` file
replaces whole sections and leaves the others, and a bad file is refused with a message that
says where and what (FixtureError, a usage error)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from aimodels.emulator import fixtures
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread
from aimodels.errors import EXIT_USAGE

SUB = "00000000-0000-0000-0000-000000000000"
LOCATION = f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus"
Q = {"api-version": "2026-08-02-preview"}
ONE_MODEL = {"containerService.catalog": [{
    "modelId": "acme/tiny-chat", "description": "A tiny test model.", "license": "apache-2.0",
    "isRestricted": False, "maxContextLength": 4096, "parameterCount": 1_000_000_000}]}


def test_built_in_fixtures_follow_the_schema() -> None:
    data = fixtures.builtin()
    assert list(fixtures.validator().iter_errors(data)) == []
    assert set(data) == set(fixtures.section_names())


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_file_replaces_the_sections_it_names_and_keeps_the_others(tmp_path: Path,
                                                                    suffix: str) -> None:
    path = tmp_path / f"fixtures{suffix}"
    path.write_text(json.dumps(ONE_MODEL))  # JSON is YAML too
    config = EmulatorConfig(fixtures_path=path)
    with start_in_thread(config) as em:
        with httpx.Client(base_url=em.url, headers={"Authorization": "Bearer t"}) as client:
            catalog = client.get(f"{LOCATION}/aiModels", params=Q).json()["value"]
            name = catalog[0]["name"]
            cost = client.post(f"{LOCATION}/aiModels/{name}/calculateCost", params=Q,
                               json={"replicas": 1})
    assert [m["properties"]["modelId"] for m in catalog] == ["acme/tiny-chat"]
    assert cost.status_code == 200
    assert len(cost.json()["plans"]) == len(fixtures.builtin()["containerService.vmSizes"])


def test_yaml_comments_and_underscore_keys_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_text("# one Foundry account only\n_note: kept for people\ncognitiveServices:\n"
                    "  _comment: no models\n  accounts:\n    - {subscription: s, resourceGroup: g,"
                    " name: a, location: eastus}\n")
    assert fixtures.load(path)["cognitiveServices"]["accounts"][0]["name"] == "a"
    assert fixtures.load(path)["containerService.catalog"]  # untouched


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("f.yaml", "containerService.catalog: [\n", "not valid YAML: line 2"),
    ("f.json", '{"containerService.catalog": ', "not valid JSON"),
    ("f.json", "[1, 2]", "fixtures must be a mapping of sections, got list"),
    ("f.yaml", "containerservice.catalog: []",
     "unknown section 'containerservice.catalog' (did you mean 'containerService.catalog'?)"),
    ("f.yaml", "containerService.catalog:\n  - {modelId: acme/x, maxContextLength: 1}",
     "containerService.catalog[0]: 'parameterCount' is a required property"),
    ("f.yaml", "containerService.catalog:\n  - {modelId: acme/x, maxContextLength: 1, "
     "parameterCount: 1, isRestriced: true}",
     "containerService.catalog[0]: unknown field 'isRestriced' (did you mean 'isRestricted'?)"),
    ("f.yaml", "containerService.gpuQuota: {eastus: {NCasT4_v3: -1}}",
     "containerService.gpuQuota.eastus.NCasT4_v3: -1 is less than the minimum of 0"),
    ("f.yaml", "cognitiveServices:\n  models:\n    - {format: OpenAI, name: m, version: '1', "
     "skus: {Standard: {capacity: {minimum: 1, step: 1, default: 1}}}}",
     "cognitiveServices.models[0].skus.Standard.capacity: 'maximum' is a required property"),
])
def test_bad_files_are_refused_saying_where(tmp_path: Path, name: str, text: str,
                                            expected: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(fixtures.FixtureError) as refused:
        fixtures.load(path)
    assert refused.value.message.startswith(f"{path}: ")
    assert expected in refused.value.message
    assert refused.value.exit_code == EXIT_USAGE


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(fixtures.FixtureError, match="cannot read the fixtures file"):
        fixtures.load(path)
