"""Pre-flight through `aimodels plan`: each of the six reasons (docs/preflight.md) a
Foundry model cannot be
deployed (triggered by the fixture items of docs/emulator.md's table), quota summed across the
plan, and an errored plan refused by apply. Exit 1, the reason named, what to do said."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from e2e_support import Cli, deployment_path

FOUNDRY = """\
apiVersion: aimodels/v1
kind: FoundryDeployment
metadata:
  name: {name}
spec:
  model: {{format: {fmt}, name: {model}, version: "{version}"}}
  sku: {{name: {sku}, capacity: {capacity}}}
"""


def foundry(name: str, model: str, version: str, sku: str, capacity: int,
            fmt: str = "OpenAI") -> str:
    return FOUNDRY.format(name=name, model=model, version=version, sku=sku, capacity=capacity,
                          fmt=fmt)


REASONS = [
    pytest.param(foundry("gpt5", "gpt-5", "2025-08-07", "GlobalStandard", 10),
                 "gpt-5 2025-08-07 is not available in eastus (model not in subscription)",
                 "No region of this subscription offers gpt-5", id="1-not-in-subscription"),
    pytest.param(foundry("o3mini", "o3-mini", "2025-01-31", "GlobalStandard", 10),
                 "o3-mini 2025-01-31 is not available in eastus (model not in deployment region)",
                 "Available in eastus2 (GlobalStandard, 450 units free)", id="2-not-in-region"),
    pytest.param(foundry("gpt41", "gpt-4.1", "2025-04-14", "Standard", 10),
                 "SKU Standard is not supported in eastus for gpt-4.1 2025-04-14 "
                 "(SKU not supported in region)",
                 "Standard is offered for this version in eastus2", id="3-sku-not-supported"),
    pytest.param(foundry("o4mini", "o4-mini", "2025-04-16", "GlobalStandard", 10),
                 "o4-mini 2025-04-16 GlobalStandard in eastus: not enough quota "
                 "(no available quota)",
                 "limit 150, used 150, this plan needs 10", id="4-no-quota"),
    pytest.param(foundry("phi4", "Phi-4", "3", "GlobalStandard", 1, fmt="Microsoft"),
                 "Phi-4 3 is not available in eastus (version not available)",
                 "Versions of Phi-4 available in eastus: 7 (default)",
                 id="5-version-not-available"),
    pytest.param(foundry("ptu", "gpt-4o", "2024-11-20", "ProvisionedManaged", 50),
                 "gpt-4o 2024-11-20 cannot be deployed as ProvisionedManaged in eastus "
                 "(deployment type constraint)",
                 "The quota pool OpenAI.Provisioned.gpt-4o is blocked", id="6-type-constraint"),
]


@pytest.mark.parametrize(("manifest", "summary", "detail"), REASONS)
def test_each_unavailability_reason_fails_the_plan_with_what_to_do(
        cli: Cli, stack: Path, manifest: str, summary: str, detail: str) -> None:
    (stack / "foundry-deployment.yaml").write_text(manifest)
    for flags in ((), ("--detailed-exitcode",)):
        planned = cli("plan", *flags)
        assert planned.code == 1, planned.text
        assert summary in planned.out
        assert detail in planned.out
        assert "This plan cannot be applied: 1 error." in planned.out
    as_json = cli("plan", "--format", "json")
    assert as_json.code == 1
    assert '"errored": true' in as_json.out and summary in as_json.out


def test_quota_is_summed_across_the_deployments_of_one_plan(cli: Cli, stack: Path) -> None:
    # eastus OpenAI.GlobalStandard.gpt-4o: limit 450, 100 used: 350 free; 200 + 200 do not fit.
    (stack / "foundry-deployment.yaml").write_text(
        foundry("chat-a", "gpt-4o", "2024-11-20", "GlobalStandard", 200) + "---\n"
        + foundry("chat-b", "gpt-4o", "2024-11-20", "GlobalStandard", 200))
    planned = cli("plan")
    assert planned.code == 1, planned.text
    assert planned.out.count("(no available quota)") == 2
    assert "limit 450, used 100, this plan needs 400" in planned.out


def test_apply_refuses_a_plan_with_pre_flight_errors_and_changes_nothing(
        cli: Cli, stack: Path) -> None:
    (stack / "foundry-deployment.yaml").write_text(
        foundry("o4mini", "o4-mini", "2025-04-16", "GlobalStandard", 10))
    refused = cli("apply", "--yes")
    assert refused.code == 1, refused.text
    assert "(no available quota)" in refused.out
    assert "Apply complete" not in refused.out
    assert not (stack / ".aimodels" / "state.json").exists()


GATED = """\
apiVersion: aimodels/v1
kind: ModelDeployment
metadata:
  name: llama
spec:
  namespace: default
  model:
    catalog: meta-llama/Llama-3.1-8B-Instruct
{source}  vmSize: Standard_NC24ads_A100_v4
  scale: {{replicas: 1}}
"""
PRIVATE_SOURCE = """\
apiVersion: aimodels/v1
kind: ModelSource
metadata:
  name: hf-private
spec:
  sourceType: HuggingFace
  credential: {fromEnv: HF_TOKEN}
"""


def test_a_gated_model_without_a_model_source_fails_the_plan_naming_the_fix(
        cli: Cli, stack: Path, outside: httpx.Client) -> None:
    (stack / "llama.yaml").write_text(GATED.format(source=""))
    planned = cli("plan")
    assert planned.code == 1, planned.text
    assert "meta-llama/Llama-3.1-8B-Instruct is gated (license llama3.1): it needs a " \
           "ModelSource with a credential" in planned.out
    assert "llama.yaml:8:" in planned.out  # spec.model.catalog
    assert "Without one, apply fails with ModelSourceRequired" in planned.out
    assert "credential: {fromEnv: HF_TOKEN}" in planned.out
    refused = cli("apply", "--yes")
    assert refused.code == 1 and "Apply complete" not in refused.out
    live = outside.get(deployment_path("llama"), params={"api-version": "2026-08-02-preview"})
    assert live.status_code == 404  # nothing was sent to Azure


def test_a_gated_model_pulled_through_a_source_without_a_credential_fails_the_plan(
        cli: Cli, stack: Path) -> None:
    (stack / "llama.yaml").write_text(GATED.format(source="  modelSource: hf-public\n"))
    planned = cli("plan")
    assert planned.code == 1, planned.text
    assert "meta-llama/Llama-3.1-8B-Instruct is gated (license llama3.1), and ModelSource " \
           "hf-public has no credential" in planned.out
    assert "(ModelAccessDenied). Add spec.credential to ModelSource hf-public" in planned.out


def test_a_gated_model_with_a_credentialed_source_plans_cleanly(
        cli: Cli, stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_for_the_test")
    (stack / "llama.yaml").write_text(GATED.format(source="  modelSource: hf-private\n")
                                      + "---\n" + PRIVATE_SOURCE)
    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "gated" not in planned.text
