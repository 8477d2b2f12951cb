"""`aimodels deployments list|show` against the emulator: both kinds in one table, every
namespace of every AI manager in scope, managed marks, filters, JSON, and the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from read_harness import LLAMA_8B, MANAGER, PHI_MINI, RG, Azure, run, write_managed, write_stack

from aimodels.emulator.cognitiveservices.common import seed_account
from aimodels.emulator.containerservice.parents import seed_parents
from aimodels.service.deployments import model_type_of

MODEL_DEPLOYMENT_DOC = """
apiVersion: aimodels/v1
kind: ModelDeployment
metadata: {name: elsewhere}
spec:
  aiManager: %s
  namespace: prod
  model: {catalog: microsoft/Phi-4-mini-instruct}
  vmSize: Standard_NC24ads_A100_v4
  scale: {replicas: 1}
"""
FOUNDRY_DOC = """
apiVersion: aimodels/v1
kind: FoundryDeployment
metadata: {name: other-chat}
spec:
  account: %s
  model: {format: OpenAI, name: gpt-4o, version: "2024-11-20"}
  sku: {name: GlobalStandard, capacity: 10}
"""


def test_list_shows_both_kinds_from_every_namespace(azure: Azure, tmp_path: Path) -> None:
    azure.model_deployment("phi-prod", "prod")
    azure.model_deployment("phi-dev", "dev")
    azure.foundry_deployment("gpt-chat", capacity=20)
    result = run(azure, write_stack(tmp_path, azure), "deployments", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["M", "NAME", "KIND", "MODEL", "TYPE", "SKU/VM", "SIZE",
                                "CAPACITY/REPLICAS", "STATE", "WHERE", "ENDPOINT"]
    rows = {line.split()[0]: line.split() for line in lines[2:-2]}
    assert rows["gpt-chat"][:8] == ["gpt-chat", "FoundryDeployment", "gpt-4o", "2024-11-20",
                                    "Base", "GlobalStandard", "20", "Succeeded"]
    assert rows["gpt-chat"][8] == "acct"
    assert rows["gpt-chat"][9].endswith("/openai/deployments/gpt-chat")
    assert rows["phi-dev"][:8] == ["phi-dev", "ModelDeployment", PHI_MINI, "Base",
                                   "Standard_NC24ads_A100_v4", "1/1", "Succeeded", "aim/dev"]
    assert rows["phi-prod"][8] == f"{azure.url}/inference/aim/prod/v1"
    assert lines[-1] == "3 deployments found (3 base, 0 custom)"


def test_type_column_summary_and_filter_for_custom_deployments(azure: Azure,
                                                               tmp_path: Path) -> None:
    # Seed 001's table: two base and two custom deployments, one of each kind custom.
    azure.model_deployment("my-gpt4-prod")
    azure.foundry_deployment("my-gpt4-dev")
    azure.as_custom(azure.model_deployment("my-llama-prod"), "my-llama-7b")
    azure.as_custom(azure.foundry_deployment("test-mistral"), "my-mistral", "2")
    folder = write_stack(tmp_path, azure)
    result = run(azure, folder, "deployments", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    types = {line.split()[0]: line.split() for line in lines[2:-2]}
    assert types["my-llama-prod"][2:4] == ["my-llama-7b", "Custom"]
    assert types["test-mistral"][2:5] == ["my-mistral", "2", "Custom"]
    assert types["my-gpt4-dev"][4] == "Base" and types["my-gpt4-prod"][3] == "Base"
    assert lines[-1] == "4 deployments found (2 base, 2 custom)"
    shown = run(azure, folder, "deployments", "show", "test-mistral").stdout
    assert "Model:        my-mistral 2 (Custom)" in shown and "Model type:   Custom" in shown
    custom = run(azure, folder, "deployments", "list", "--type", "custom")
    assert custom.stdout.splitlines()[-1] == "2 custom deployments found"
    assert "my-gpt4" not in custom.stdout
    base = json.loads(run(azure, folder, "deployments", "list", "--type", "base", "-o",
                          "json").stdout)
    assert sorted((r["name"], r["type"]) for r in base) == [("my-gpt4-dev", "base"),
                                                            ("my-gpt4-prod", "base")]
    assert run(azure, folder, "deployments", "list", "--type", "weird").exit_code == 64


@pytest.mark.parametrize(("reference", "expected"), [
    pytest.param("/custom-models/llama", "custom", id="registry-path"),
    pytest.param("/custom-models/llama/versions/2", "custom", id="registry-path-versioned"),
    pytest.param("/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/"
                 "aiModels/0123456789abcdef", "base", id="aimodel-id"),
    pytest.param({"format": "Custom", "name": "llama", "version": "1"}, "custom",
                 id="foundry-custom-format"),
    pytest.param({"format": "custom", "name": "llama"}, "custom", id="format-any-case"),
    pytest.param({"format": "OpenAI", "name": "gpt-4o", "source": "/custom-models/x"},
                 "custom", id="registry-source"),
    pytest.param({"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}, "base",
                 id="foundry-openai"),
    pytest.param(None, "base", id="nothing"),
])
def test_model_type_of_a_reference(reference: object, expected: str) -> None:
    assert model_type_of(reference) == expected


def test_managed_deployments_are_marked_in_table_and_json(azure: Azure, tmp_path: Path) -> None:
    ours = azure.model_deployment("ours")
    azure.model_deployment("theirs")
    foundry = azure.foundry_deployment("gpt-ours")
    folder = write_stack(tmp_path, azure)
    write_managed(folder, ("ModelDeployment/ours", ours),
                  ("FoundryDeployment/gpt-ours", foundry))
    table = run(azure, folder, "deployments", "list").stdout
    marks = {line.split()[1]: line.split()[0] for line in table.splitlines()
             if line.startswith("* ")}
    assert marks == {"ours": "*", "gpt-ours": "*"}
    assert "theirs" in table and "2 managed by this state" in table
    rows = {r["name"]: r for r in json.loads(run(azure, folder, "deployments", "list", "-o",
                                                 "json").stdout)}
    assert (rows["ours"]["managed"], rows["ours"]["address"]) == (True, "ModelDeployment/ours")
    assert (rows["theirs"]["managed"], rows["theirs"]["address"]) == (False, None)
    assert rows["gpt-ours"]["address"] == "FoundryDeployment/gpt-ours"
    assert (rows["ours"]["replicas"], rows["ours"]["readyReplicas"], rows["ours"]["model"]) == \
        (1, 1, PHI_MINI)
    assert rows["gpt-ours"]["capacity"] == 10 and rows["gpt-ours"]["replicas"] is None


def test_model_and_status_filters(azure: Azure, tmp_path: Path) -> None:
    azure.model_deployment("phi")
    azure.foundry_deployment("gpt")
    source = azure.model_source("hf-no-credential")
    # A gated model pulled through a source without a credential fails while reconciling.
    azure.model_deployment("gated", model=LLAMA_8B, modelSourceResourceId=source)
    folder = write_stack(tmp_path, azure)

    def names(*flags: str) -> list[str]:
        result = run(azure, folder, "deployments", "list", "-o", "json", *flags)
        assert result.exit_code == 0, result.stderr
        return [r["name"] for r in json.loads(result.stdout)]

    assert names("--model", "GPT-4O") == ["gpt"]
    assert names("--model", PHI_MINI) == ["phi"]
    assert names("--model", "phi-4-mini-instruct") == ["phi"]
    assert names("--status", "failed") == ["gated"]
    assert sorted(names("--status", "Succeeded")) == ["gpt", "phi"]
    assert names("--model", "gpt-4o", "--status", "failed") == []
    empty = run(azure, folder, "deployments", "list", "--status", "Creating")
    assert (empty.exit_code, empty.stdout) == (0, "No deployments found.\n")


def test_show_gives_status_endpoint_and_the_failure(azure: Azure, tmp_path: Path) -> None:
    source = azure.model_source("hf-empty")
    azure.model_deployment("gated", model=LLAMA_8B, modelSourceResourceId=source)
    folder = write_stack(tmp_path, azure)
    text = run(azure, folder, "deployments", "show", "gated")
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith("ModelDeployment: gated (not managed by this state)\n")
    assert "State:             Failed" in text.stdout
    assert "Error:             ModelAccessDenied: " in text.stdout
    shown = json.loads(run(azure, folder, "deployments", "show", "gated", "-o", "json").stdout)
    assert shown["state"] == "Failed" and shown["endpoint"] is None
    assert shown["details"]["provisioningError"]["code"] == "ModelAccessDenied"


def test_show_a_foundry_deployment(azure: Azure, tmp_path: Path) -> None:
    azure.foundry_deployment("gpt-chat")
    folder = write_stack(tmp_path, azure)
    result = run(azure, folder, "deployments", "show", "gpt-chat")
    assert result.exit_code == 0, result.stderr
    assert "Model:        gpt-4o 2024-11-20 (OpenAI)" in result.stdout
    assert f"Endpoint:     {azure.url}/accounts/acct/openai/deployments/gpt-chat" in result.stdout
    assert "aimodels chat acct/gpt-chat 'Hello!'" in result.stdout
    shown = json.loads(run(azure, folder, "deployments", "show", "gpt-chat", "-o",
                           "json").stdout)
    assert shown["details"]["raiPolicyName"] == "Microsoft.Default"  # the service default


def test_show_an_unknown_deployment_exits_1_and_points_at_the_list(azure: Azure,
                                                                   tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "deployments", "show", "nope")
    assert result.exit_code == 1
    assert "no deployment named nope in AI manager aim, account acct; see `aimodels " \
           "deployments list`" in result.stderr


def test_same_name_in_two_namespaces_needs_a_qualifier(azure: Azure, tmp_path: Path) -> None:
    azure.model_deployment("chat", "dev")
    azure.model_deployment("chat", "prod")
    folder = write_stack(tmp_path, azure)
    ambiguous = run(azure, folder, "deployments", "show", "chat")
    assert ambiguous.exit_code == 64
    assert "chat names 2 deployments" in ambiguous.stderr and "aim/dev/chat" in ambiguous.stderr
    for ref, namespace in (("dev/chat", "dev"), ("aim/prod/chat", "prod")):
        shown = json.loads(run(azure, folder, "deployments", "show", ref, "-o", "json").stdout)
        assert shown["namespace"] == namespace
    by_kind = run(azure, folder, "deployments", "show", "FoundryDeployment/chat")
    assert by_kind.exit_code == 1


def test_managers_and_accounts_named_by_manifests_are_listed(azure: Azure,
                                                             tmp_path: Path) -> None:
    seed_parents(azure.running.emulator, azure.sub, RG, "eastus", "second")
    seed_account(azure.running.emulator, azure.sub, RG, "acct-two", "eastus")
    azure.model_deployment("in-second", manager="second")
    azure.foundry_deployment("in-acct-two", account="acct-two")
    folder = write_stack(tmp_path, azure, MODEL_DEPLOYMENT_DOC % "second",
                         FOUNDRY_DOC % "acct-two")
    rows = json.loads(run(azure, folder, "deployments", "list", "-o", "json").stdout)
    assert {(r["name"], r["aiManager"] or r["account"]) for r in rows} == \
        {("in-second", "second"), ("in-acct-two", "acct-two")}


def test_a_missing_parent_is_a_warning_not_a_failure(azure: Azure, tmp_path: Path) -> None:
    azure.model_deployment("still-listed")
    folder = write_stack(tmp_path, azure, MODEL_DEPLOYMENT_DOC % "ghost", FOUNDRY_DOC % "gone")
    result = run(azure, folder, "deployments", "list")
    assert result.exit_code == 0
    assert "still-listed" in result.stdout
    assert "warning: AI manager ghost not found in resource group rg-read" in result.stderr
    assert "warning: Foundry account gone not found" in result.stderr


def test_state_managers_are_listed_and_reads_take_no_lock(azure: Azure, tmp_path: Path) -> None:
    seed_parents(azure.running.emulator, azure.sub, RG, "eastus", "from-state")
    managed = azure.model_deployment("kept", manager="from-state")
    folder = write_stack(tmp_path, azure)
    state = write_managed(folder, ("ModelDeployment/kept", managed))
    before = state.read_bytes()
    rows = json.loads(run(azure, folder, "deployments", "list", "-o", "json").stdout)
    assert [(r["name"], r["aiManager"], r["managed"]) for r in rows] == \
        [("kept", "from-state", True)]
    assert state.read_bytes() == before
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.json"]
    assert MANAGER not in [r["aiManager"] for r in rows]

