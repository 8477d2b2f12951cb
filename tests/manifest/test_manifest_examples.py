"""The examples are valid, point editors at the right schema, and ship real safetensors weights."""

from __future__ import annotations

import importlib.util
import json
import re
import struct
from pathlib import Path

import pytest
import yaml

from aimodels.errors import ManifestError
from aimodels.manifest.load import load_manifests
from aimodels.model.address import ResourceAddress

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
QUICKSTART = EXAMPLES / "quickstart"
MULTI = EXAMPLES / "multi-env"
SCHEMA_COMMENT = re.compile(r"\A# yaml-language-server: \$schema=(\S+)\n")
DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4}


def test_quickstart_declares_one_resource_of_each_kind() -> None:
    desired = load_manifests([str(QUICKSTART)], env={}, strict_env=True).desired
    stack = desired.stack
    assert (stack.name, stack.target, stack.subscription_id, stack.resource_group,
            stack.location, stack.ai_manager, stack.foundry_account) == (
        "quickstart", "local", "00000000-0000-0000-0000-000000000000", "rg-quickstart",
        "eastus", "quickstart", "quickstart-foundry")
    assert sorted(map(str, desired.resources)) == [
        "CustomModel/tiny-llama", "FoundryDeployment/gpt4o-chat", "ModelDeployment/phi4-chat",
        "ModelSource/hf-public"]
    deployment = desired.resources[ResourceAddress("ModelDeployment", "phi4-chat")].spec
    assert (deployment["namespace"], deployment["model"], deployment["vmSize"],
            deployment["scale"]) == ("default", {"catalog": "microsoft/Phi-4-mini-instruct"},
                                     "Standard_NC24ads_A100_v4", {"replicas": 1})
    foundry = desired.resources[ResourceAddress("FoundryDeployment", "gpt4o-chat")].spec
    assert (foundry["model"], foundry["sku"], foundry["account"]) == (
        {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
        {"name": "GlobalStandard", "capacity": 10}, "quickstart-foundry")
    assert "credential" not in desired.resources[ResourceAddress("ModelSource", "hf-public")].spec


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_multi_env_base_plus_one_environment_is_valid(env: str) -> None:
    desired = load_manifests([str(MULTI / "base"), str(MULTI / env)], env={"HF_TOKEN": "x"},
                             strict_env=True).desired
    assert desired.stack.name == f"team-alpha-{env}"
    source = desired.resources[ResourceAddress("ModelSource", "hf-private")]
    assert source.spec["aiManager"] == f"team-alpha-{env}"
    assert source.spec["credential"] == {"fromEnv": "HF_TOKEN"}
    namespaces = {r.spec["namespace"] for r in desired.of_kind("ModelDeployment")}
    assert namespaces == {env}


@pytest.mark.parametrize("paths", [["."], ["dev"]], ids=["everything", "dev-without-base"])
def test_multi_env_is_not_one_set(paths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(MULTI)
    with pytest.raises(ManifestError):
        load_manifests(paths, env={"HF_TOKEN": "x"}, strict_env=False)


EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[str(p.relative_to(EXAMPLES)) for p in
                                                     EXAMPLE_FILES])
def test_every_example_points_at_the_schema_of_its_kind(path: Path) -> None:
    match = SCHEMA_COMMENT.match(path.read_text())
    assert match, "starts with the yaml-language-server $schema comment"
    schema = (path.parent / match.group(1)).resolve()
    assert schema.is_file()
    kinds = {doc["kind"] for doc in yaml.safe_load_all(path.read_text()) if doc}
    assert {f"{k.lower()}.schema.json" for k in kinds} == {schema.name}


WEIGHTS = [QUICKSTART / "weights" / "tiny-llama.safetensors",
           MULTI / "base" / "weights" / "support-llama.safetensors"]


@pytest.mark.parametrize("path", WEIGHTS, ids=[p.name for p in WEIGHTS])
def test_weights_are_valid_safetensors(path: Path) -> None:
    blob = path.read_bytes()
    (header_len,) = struct.unpack("<Q", blob[:8])
    assert header_len % 8 == 0 and 8 + header_len <= len(blob) < 64 * 1024
    header = json.loads(blob[8:8 + header_len])
    assert header.pop("__metadata__")["format"] == "pt"
    offset = 0
    for name, tensor in header.items():
        start, end = tensor["data_offsets"]
        count = 1
        for dim in tensor["shape"]:
            count *= dim
        assert start == offset and end - start == count * DTYPE_BYTES[tensor["dtype"]], name
        offset = end
    assert 8 + header_len + offset == len(blob)


@pytest.mark.parametrize(("path", "seed"), list(zip(WEIGHTS, [20241120, 7], strict=True)),
                         ids=[p.name for p in WEIGHTS])
def test_make_weights_reproduces_the_committed_file(path: Path, seed: int) -> None:
    spec = importlib.util.spec_from_file_location("make_weights", QUICKSTART / "make_weights.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.safetensors_bytes(seed) == path.read_bytes()
