"""`aimodels access NAMESPACE`: listAccessInfo with the keys masked unless --show-keys (a key
canary never shows without it), ready-to-paste examples, and the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from read_harness import RG, Azure, Entry, run, write_stack

from aimodels.emulator.containerservice.parents import seed_parents
from aimodels.service.access import mask_key


def test_keys_are_masked_by_default_in_table_and_json(azure: Azure, tmp_path: Path) -> None:
    canary = azure.access_keys("prod")
    folder = write_stack(tmp_path, azure)
    for args in ((), ("-o", "json")):
        result = run(azure, folder, "access", "prod", *args)
        assert result.exit_code == 0, result.stderr
        for secret in (canary["primaryKey"], canary["secondaryKey"]):
            assert secret not in result.stdout and secret not in result.stderr
            assert secret[:8] not in result.output and secret[-8:] not in result.output
    table = run(azure, folder, "access", "prod").stdout
    assert f"Primary key:    {mask_key(canary['primaryKey'])}" in table
    assert "masked; --show-keys prints them in full" in table
    shown = json.loads(run(azure, folder, "access", "prod", "-o", "json").stdout)
    assert shown["primaryKey"] == mask_key(canary["primaryKey"])
    assert (shown["keysMasked"], shown["endpoint"]) == (True, canary["endpoint"])
    assert shown["lastRotatedAt"] == canary["lastRotatedAt"]


def test_show_keys_prints_them_in_full(azure: Azure, tmp_path: Path) -> None:
    canary = azure.access_keys("dev")
    folder = write_stack(tmp_path, azure)
    table = run(azure, folder, "access", "dev", "--show-keys").stdout
    assert f"Primary key:    {canary['primaryKey']}" in table
    assert f"Secondary key:  {canary['secondaryKey']}" in table
    assert f"export AIMODELS_API_KEY={canary['primaryKey']}" in table
    shown = json.loads(run(azure, folder, "access", "dev", "--show-keys", "-o", "json").stdout)
    assert (shown["primaryKey"], shown["secondaryKey"], shown["keysMasked"]) == \
        (canary["primaryKey"], canary["secondaryKey"], False)


def test_examples_name_the_endpoint_and_a_serving_deployment(azure: Azure,
                                                             tmp_path: Path) -> None:
    azure.model_deployment("phi-chat", "staging")
    endpoint = azure.access_keys("staging")["endpoint"]
    result = run(azure, write_stack(tmp_path, azure), "access", "staging")
    assert f"curl -sS {endpoint}/chat/completions" in result.stdout
    assert '-H "Authorization: Bearer $AIMODELS_API_KEY"' in result.stdout
    assert '"model": "phi-chat"' in result.stdout
    assert "aimodels chat aim/staging/phi-chat 'Hello!'" in result.stdout
    assert "Serving:        phi-chat" in result.stdout
    assert "--show-keys -o json | jq -r .primaryKey" in result.stdout


def test_another_ai_manager_by_flag(azure: Azure, tmp_path: Path) -> None:
    seed_parents(azure.running.emulator, azure.sub, RG, "eastus", "other", ["blue"])
    canary = azure.access_keys("blue", manager="other")
    folder = write_stack(tmp_path, azure, ai_manager=None)
    result = run(azure, folder, "access", "blue", "--ai-manager", "other", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["endpoint"] == canary["endpoint"]
    assert canary["primaryKey"] not in result.output


def test_no_ai_manager_anywhere_is_a_usage_error(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure, ai_manager=None), "access", "prod")
    assert result.exit_code == 64
    assert "--ai-manager" in result.stderr


def test_an_unknown_namespace_lists_the_existing_ones(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "access", "qa")
    assert result.exit_code == 1
    assert "error: no namespace named qa in AI manager aim" in result.stderr
    assert "hint: Its namespaces: default, dev, prod, staging." in result.stderr


def test_an_unknown_ai_manager_says_so(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "access", "prod", "--ai-manager", "nope")
    assert result.exit_code == 1
    assert "no AI manager named nope in resource group rg-read" in result.stderr


@pytest.mark.parametrize(("key", "masked"), [
    ("0123456789abcdef0123456789abcdef", "0123…cdef"),
    ("0123456789abcdef", "0123…cdef"),
    ("short-key", "****"),
    ("", "****"),
])
def test_mask_key_shows_at_most_the_ends_of_long_keys(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_access_on_target_local_says_the_endpoint_dies_with_the_command(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "apiVersion: aimodels/v1\nkind: Stack\nmetadata: {name: local}\nspec:\n"
        "  target: local\n  subscriptionId: 00000000-0000-0000-0000-000000000000\n"
        "  resourceGroup: rg-local\n  location: eastus\n  aiManager: mine\n")
    result = CliRunner().invoke(Entry(), ["access", "default", "-f", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "only while an aimodels command runs" in result.stdout
    assert "aimodels emulator serve --data .aimodels/emulator" in result.stdout
    assert "AIMODELS_ENDPOINT=http://127.0.0.1:8080 aimodels access default" in result.stdout
    assert "curl -sS" not in result.stdout
