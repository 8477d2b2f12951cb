"""Providers: request bodies, live bodies read back, resource ids, and the immutable tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aimodels.errors import ManifestError, SourceLocation
from aimodels.model.address import ResourceAddress
from aimodels.model.arm import arm_parents, catalog_model_id
from aimodels.model.desired import DesiredResource, Stack
from aimodels.plan.provider import ProviderContext
from aimodels.plan.values import SENSITIVE_VALUE, ResolvedInputs, Weights
from aimodels.providers import foundrydeployment, modeldeployment, modelsource
from aimodels.providers.registry import default_registry

STACK = Stack(name="t", target="azure", subscription_id="sub-1", resource_group="rg-1",
              location="eastus", source=SourceLocation("s.yaml"), base_dir=Path("."),
              ai_manager="team-alpha", foundry_account="alpha-foundry")
REGISTRY = default_registry()


def _resource(kind: str, name: str, spec: dict[str, Any]) -> DesiredResource:
    return DesiredResource(ResourceAddress(kind, name), spec, SourceLocation("m.yaml"), Path("."))


def _body(resource: DesiredResource, ctx: ProviderContext) -> tuple[dict[str, Any], str]:
    provider = REGISTRY.for_address(resource.address)
    spec = provider.normalize(resource, ctx)
    return (provider.to_body(resource.address, spec, ctx),
            provider.resource_id(resource.address, spec, ctx.stack))


def test_catalog_model_id_matches_the_typespec_example() -> None:
    model_id = catalog_model_id(STACK, "microsoft/Phi-4-mini-instruct")
    assert model_id == ("/subscriptions/sub-1/providers/Microsoft.ContainerService/locations/"
                        "eastus/aiModels/9806f0c862fdd920")


def test_model_source_inline_secret_goes_out_once_and_never_comes_back() -> None:
    source = _resource("ModelSource", "hf", {"sourceType": "HuggingFace",
                                             "credential": {"fromEnv": "HF_TOKEN"}})
    ctx = ProviderContext(STACK, desired={source.address: source},
                          secret_values={source.address: {"credential.secret": "hf_abc"}})
    body, rid = _body(source, ctx)
    assert body == {"properties": {"sourceType": "HuggingFace", "credential": {
        "inline": {"type": "Inline", "value": "hf_abc"}}}}
    assert rid.endswith("/providers/Microsoft.ContainerService/aiManagers/team-alpha/"
                        "modelSources/hf")
    assert "hf_abc" not in repr(ctx)
    live = REGISTRY.for_kind("ModelSource").from_live(
        {"id": rid, "eTag": '"1"', "properties": {"sourceType": "HuggingFace",
                                                   "credential": {"inline": {}}}})
    assert live == {"aiManager": "team-alpha", "sourceType": "HuggingFace",
                    "credential": {"secret": SENSITIVE_VALUE}}


def test_model_source_without_the_secret_is_a_manifest_error_naming_the_variable() -> None:
    source = _resource("ModelSource", "hf", {"sourceType": "HuggingFace",
                                             "credential": {"fromEnv": "HF_TOKEN"}})
    with pytest.raises(ManifestError) as raised:
        _body(source, ProviderContext(STACK, desired={source.address: source}))
    assert "HF_TOKEN" in raised.value.hint


def test_model_source_key_vault_reference() -> None:
    source = _resource("ModelSource", "kv", {"sourceType": "HuggingFace", "credential": {
        "keyVaultSecretUri": "https://kv.vault.azure.net/secrets/t"}})
    body, _ = _body(source, ProviderContext(STACK))
    assert body["properties"]["credential"] == {
        "keyVault": {"type": "KeyVault", "secretUri": "https://kv.vault.azure.net/secrets/t"}}


def test_model_deployment_body_for_catalog_model_source_and_autoscale() -> None:
    deployment = _resource("ModelDeployment", "chat", {
        "namespace": "prod", "model": {"catalog": "microsoft/Phi-4-mini-instruct"},
        "modelSource": "hf", "vmSize": "Standard_NC24ads_A100_v4",
        "scale": {"autoscale": {"minReplicas": 1, "maxReplicas": 4}},
        "overrides": {"maxModelLen": "8192"}})
    body, rid = _body(deployment, ProviderContext(STACK))
    assert body == {"properties": {
        "modelResourceId": catalog_model_id(STACK, "microsoft/Phi-4-mini-instruct"),
        "modelSourceResourceId": "/subscriptions/sub-1/resourceGroups/rg-1/providers/"
                                 "Microsoft.ContainerService/aiManagers/team-alpha/modelSources/hf",
        "vmSize": "Standard_NC24ads_A100_v4",
        "scale": {"autoscale": {"minReplicas": 1, "maxReplicas": 4}},
        "overrides": {"values": {"maxModelLen": "8192"}}}}
    assert arm_parents(rid) == {"aimanagers": "team-alpha", "namespaces": "prod",
                                "modeldeployments": "chat"}


def test_model_deployment_reads_back_names_and_manual_scale() -> None:
    provider = REGISTRY.for_kind("ModelDeployment")
    live = provider.from_live({
        "id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.ContainerService/"
              "aiManagers/m/namespaces/prod/modelDeployments/chat",
        "properties": {"modelResourceId": "/custom-models/llama",
                       "modelSourceResourceId": "/subscriptions/s/resourceGroups/r/providers/"
                       "Microsoft.ContainerService/aiManagers/other/modelSources/hf",
                       "vmSize": "V", "scale": {"manual": {"replicas": 2}},
                       "provisioningState": "Succeeded", "status": {"endpoint": "x"}}})
    assert live["model"] == {"custom": "llama"}
    assert live["modelSource"].endswith("/aiManagers/other/modelSources/hf")  # another manager
    assert live["scale"] == {"replicas": 2} and "status" not in live
    assert provider.references({"model": {"custom": "llama"}, "modelSource": "hf"}) == (
        ResourceAddress("ModelSource", "hf"), ResourceAddress("CustomModel", "llama"))


def test_foundry_body_matches_what_the_sdk_sends() -> None:
    deployment = _resource("FoundryDeployment", "gpt4o", {
        "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"},
        "sku": {"name": "GlobalStandard", "capacity": 1},
        "raiPolicyName": "Microsoft.DefaultV2",
        "versionUpgradeOption": "OnceNewDefaultVersionAvailable"})
    body, rid = _body(deployment, ProviderContext(STACK))
    assert body == {"sku": {"name": "GlobalStandard", "capacity": 1},
                    "properties": {"model": {"format": "OpenAI", "name": "gpt-4o",
                                             "version": "2024-08-06"},
                                   "raiPolicyName": "Microsoft.DefaultV2",
                                   "versionUpgradeOption": "OnceNewDefaultVersionAvailable"}}
    assert rid == ("/subscriptions/sub-1/resourceGroups/rg-1/providers/"
                   "Microsoft.CognitiveServices/accounts/alpha-foundry/deployments/gpt4o")


def test_foundry_custom_model_carries_the_custom_model_version_and_format() -> None:
    custom = _resource("CustomModel", "llama", {"path": "./w", "version": 2})
    deployment = _resource("FoundryDeployment", "code", {"model": {"custom": "llama"},
                                                         "sku": {"name": "Standard"}})
    inputs = ResolvedInputs(weights={custom.address: Weights("ab" * 32, 10, "safetensors")})
    ctx = ProviderContext(STACK, inputs, desired={custom.address: custom,
                                                  deployment.address: deployment})
    spec = REGISTRY.for_address(deployment.address).normalize(deployment, ctx)
    assert spec["model"] == {"custom": "llama", "version": "2", "format": "safetensors",
                             "sha256": "ab" * 32}
    body, _ = _body(deployment, ctx)
    # Seed 000: --model-name --model-version --model-format safetensors --model-source.
    assert body["properties"]["model"] == {"format": "safetensors", "name": "llama",
                                           "version": "2", "source": "custom-models/llama"}
    back = REGISTRY.for_kind("FoundryDeployment").from_live(body)
    assert back["model"] == {"custom": "llama", "version": "2", "format": "safetensors"}


def test_model_deployment_of_a_custom_model_names_its_registry_path_and_version() -> None:
    custom = _resource("CustomModel", "llama", {"path": "./w", "version": "1.0"})
    deployment = _resource("ModelDeployment", "code", {
        "namespace": "prod", "model": {"custom": "llama"}, "vmSize": "V"})
    inputs = ResolvedInputs(weights={custom.address: Weights("ab" * 32, 10, "safetensors")})
    ctx = ProviderContext(STACK, inputs, desired={custom.address: custom,
                                                  deployment.address: deployment})
    body, _ = _body(deployment, ctx)
    assert body["properties"]["modelResourceId"] == "custom-models/llama/versions/1.0"
    back = REGISTRY.for_kind("ModelDeployment").from_live(body)
    assert back["model"] == {"custom": "llama", "version": "1.0"}


def test_an_explicit_version_pins_a_registered_version_without_a_digest() -> None:
    custom = _resource("CustomModel", "llama", {"path": "./w", "version": "2.0"})
    pinned = _resource("ModelDeployment", "old", {
        "namespace": "prod", "model": {"custom": "llama", "version": "1.0"}, "vmSize": "V"})
    external = _resource("FoundryDeployment", "ext", {
        "model": {"custom": "theirs", "version": "3", "format": "gguf"},
        "sku": {"name": "Standard"}})
    inputs = ResolvedInputs(weights={custom.address: Weights("ab" * 32, 10, "safetensors")})
    ctx = ProviderContext(STACK, inputs, desired={custom.address: custom})
    assert REGISTRY.for_address(pinned.address).normalize(pinned, ctx)["model"] == {
        "custom": "llama", "version": "1.0"}
    assert REGISTRY.for_address(external.address).normalize(external, ctx)["model"] == {
        "custom": "theirs", "version": "3", "format": "gguf"}


def test_custom_model_register_body_carries_the_digest() -> None:
    custom = _resource("CustomModel", "llama", {"path": "./w", "version": "1.0",
                                                "tags": {"team": "ml"}})
    inputs = ResolvedInputs(weights={custom.address: Weights("ab" * 32, 10, "gguf")})
    body, rid = _body(custom, ProviderContext(STACK, inputs))
    assert body == {"name": "llama", "version": "1.0", "format": "gguf", "tags": {"team": "ml"},
                    "sha256": "ab" * 32, "size_bytes": 10}
    assert rid == "/custom-models/llama"


def test_immutable_tables_are_per_api_version() -> None:
    assert "vmSize" in modeldeployment.IMMUTABLE_BY_API_VERSION[modeldeployment.API_VERSION]
    assert "sourceType" in modelsource.IMMUTABLE_BY_API_VERSION[modelsource.API_VERSION]
    foundry = foundrydeployment.IMMUTABLE_BY_API_VERSION["2025-09-01"]
    assert {"model.format", "model.name"} <= set(foundry) and "model.version" not in foundry
    for kind in ("ModelSource", "ModelDeployment", "FoundryDeployment"):
        provider = REGISTRY.for_kind(kind)
        module = {"ModelSource": modelsource, "ModelDeployment": modeldeployment,
                  "FoundryDeployment": foundrydeployment}[kind]
        assert provider.policy.immutable == module.IMMUTABLE_BY_API_VERSION[provider.api_version]


def test_model_source_from_a_foundry_project_with_a_managed_identity() -> None:
    identity = (f"/subscriptions/{STACK.subscription_id}/resourceGroups/rg/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/puller")
    project = (f"/subscriptions/{STACK.subscription_id}/resourceGroups/rg/providers/"
               "Microsoft.CognitiveServices/accounts/a/projects/p")
    source = _resource("ModelSource", "mf", {
        "sourceType": "MicrosoftFoundry", "credential": {"managedIdentityResourceId": identity},
        "microsoftFoundry": {"projectResourceId": project}})
    body, resource_id = _body(source, ProviderContext(STACK))
    assert body["properties"]["credential"] == {"managedIdentity": {"resourceId": identity}}
    assert body["properties"]["microsoftFoundry"] == {"projectResourceId": project}
    provider = REGISTRY.for_kind("ModelSource")
    spec = provider.normalize(source, ProviderContext(STACK))
    assert provider.from_live({"id": resource_id, **body}) == spec
    assert "microsoftFoundry" in provider.policy.immutable
