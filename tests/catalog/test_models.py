"""`aimodels models list|show` against the emulator: catalog and custom models in one view,
filters, JSON, managed marks, and the errors (unknown model, no registry, bad flags)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from click.testing import CliRunner
from read_harness import PHI_MINI, Azure, Entry, run, write_managed, write_stack

from aimodels.emulator.app import create_app
from aimodels.service.catalog import read_models
from aimodels.service.reading import ReadTarget, load_scope
from aimodels.state.local import write_state
from aimodels.state.values import ResourceState, State
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig
from aimodels.transport.credentials import StaticTokenSource


def test_list_shows_base_and_custom_models_in_one_table(registry: Azure, tmp_path: Path) -> None:
    registry.custom_model("llama-code", "1.0", b"x" * 2500)
    registry.custom_model("llama-code", "2.0", b"y" * 10)
    result = run(registry, write_stack(tmp_path, registry), "models", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CATALOG", "VERSION", "FORMAT", "SIZE",
                                "CONTEXT", "LICENSE", "STATUS", "CREATED", "M"]
    phi = next(line for line in lines if line.startswith(PHI_MINI + " "))
    assert phi.split()[:4] == [PHI_MINI, "Base", "AI", "manager"]
    assert "128K" in phi and "mit" in phi
    gpt = next(line.split() for line in lines if line.startswith("gpt-4o "))
    assert gpt == ["gpt-4o", "Base", "Foundry", "2024-11-20", "OpenAI", "-", "128,000", "-",
                   "GenerallyAvailable", "-"]
    custom = [line.split() for line in lines if line.startswith("llama-code ")]
    assert [row[:5] for row in custom] == [["llama-code", "Custom", "registry", "1.0",
                                            "safetensors"],
                                           ["llama-code", "Custom", "registry", "2.0",
                                            "safetensors"]]
    assert custom[0][5:7] == ["2.5", "kB"]
    rows = len(lines) - 4  # header, rule, blank line, summary
    assert lines[-1] == f"{rows} models found ({rows - 2} base, 2 custom)"
    only = run(registry, write_stack(tmp_path, registry), "models", "list", "--type", "custom")
    assert only.stdout.splitlines()[-1] == "2 custom models found"


def test_the_foundry_catalog_lists_beside_the_ai_manager_catalog(azure: Azure,
                                                                 tmp_path: Path) -> None:
    rows = json.loads(run(azure, write_stack(tmp_path, azure), "models", "list", "--type",
                          "base", "-o", "json").stdout)
    by_name = {(row["catalog"], row["name"]): row for row in rows}
    gpt = by_name[("foundry", "gpt-4o")]
    assert (gpt["type"], gpt["format"], gpt["version"], gpt["versions"], gpt["status"]) == \
        ("base", "OpenAI", "2024-11-20", ["2024-11-20", "2024-08-06"], "GenerallyAvailable")
    assert gpt["maxContextLength"] == 128000
    assert ("foundry", "o4-mini") in by_name and ("aiManager", PHI_MINI) in by_name
    # the catalog of the Stack's region: o3-mini is offered in eastus2, not in eastus
    assert ("foundry", "o3-mini") not in by_name
    # both catalogs hold a Phi-4: each is listed, once
    assert [(row["catalog"], row["name"]) for row in rows
            if row["name"].lower().endswith("phi-4")] == \
        [("aiManager", "microsoft/Phi-4"), ("foundry", "Phi-4")]
    # limited-access models this subscription may not use are not in its catalog
    assert ("foundry", "gpt-5") not in by_name


def test_query_matches_a_foundry_model_format(azure: Azure, tmp_path: Path) -> None:
    rows = json.loads(run(azure, write_stack(tmp_path, azure), "models", "list", "-q",
                          "mistral ai", "-o", "json").stdout)
    assert [(row["name"], row["catalog"]) for row in rows] == [("Mistral-Large-2411",
                                                               "foundry")]


def test_show_a_foundry_model_with_its_versions(azure: Azure, tmp_path: Path) -> None:
    folder = write_stack(tmp_path, azure)
    result = run(azure, folder, "models", "show", "o4-mini")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Base model: o4-mini\n")
    assert "Catalog:          Foundry, eastus (a FoundryDeployment deploys it)" in result.stdout
    assert "Version 2025-04-16 (default)" in result.stdout
    assert "spec.model: {format: OpenAI, name: o4-mini, version: \"2025-04-16\"}" in \
        result.stdout
    shown = json.loads(run(azure, folder, "models", "show", "GPT-4O", "-o", "json").stdout)
    assert (shown["type"], shown["catalog"], shown["name"], shown["defaultVersion"]) == \
        ("base", "foundry", "gpt-4o", "2024-11-20")
    assert [v["version"] for v in shown["versions"]] == ["2024-11-20", "2024-08-06"]
    assert shown["versions"][1]["replacementConfig"]["targetModelName"] == "gpt-4.1"
    assert {s["name"] for s in shown["versions"][0]["skus"]} >= {"Standard", "GlobalStandard"}


def test_a_name_in_both_catalogs_shows_one_and_names_the_other(azure: Azure,
                                                               tmp_path: Path) -> None:
    folder = write_stack(tmp_path, azure)
    bare = run(azure, folder, "models", "show", "Phi-4", "-o", "json")
    assert json.loads(bare.stdout)["catalog"] == "foundry"
    assert "Phi-4 also names AI manager catalog model microsoft/Phi-4; show it with " \
           "`aimodels models show microsoft/Phi-4`" in bare.stderr
    full = run(azure, folder, "models", "show", "microsoft/Phi-4", "-o", "json")
    assert json.loads(full.stdout)["catalog"] == "aiManager"
    assert "also names Foundry catalog model Microsoft/Phi-4; show it with `aimodels models " \
           "show Phi-4 --type base`" in full.stderr


def test_show_detects_custom_first_and_type_overrides(registry: Azure, tmp_path: Path) -> None:
    registry.custom_model("gpt-4o", "1.0")
    folder = write_stack(tmp_path, registry)
    auto = run(registry, folder, "models", "show", "gpt-4o", "-o", "json")
    assert (json.loads(auto.stdout)["type"], json.loads(auto.stdout)["catalog"]) == \
        ("custom", "registry")
    assert "gpt-4o also names Foundry catalog model OpenAI/gpt-4o; show it with " \
           "`aimodels models show gpt-4o --type base`" in auto.stderr
    base = run(registry, folder, "models", "show", "gpt-4o", "--type", "base", "-o", "json")
    assert json.loads(base.stdout)["catalog"] == "foundry" and base.stderr == ""
    custom = run(registry, folder, "models", "show", "o4-mini", "--type", "custom")
    assert custom.exit_code == 1
    assert "no model named o4-mini in the custom-model registry" in custom.stderr
    assert run(registry, folder, "models", "show", "x", "--type", "weird").exit_code == 64


def test_type_and_query_filter_the_rows(registry: Azure, tmp_path: Path) -> None:
    registry.custom_model("phi-tuned")
    folder = write_stack(tmp_path, registry)
    custom = json.loads(run(registry, folder, "models", "list", "--type", "custom", "-o",
                            "json").stdout)
    assert [(m["name"], m["type"]) for m in custom] == [("phi-tuned", "custom")]
    base = json.loads(run(registry, folder, "models", "list", "--type", "base", "-o",
                          "json").stdout)
    assert base and {m["type"] for m in base} == {"base"}
    found = json.loads(run(registry, folder, "models", "list", "--query", "PHI-4-MINI", "-o",
                           "json").stdout)
    assert [m["name"] for m in found] == [PHI_MINI]
    by_description = json.loads(run(registry, folder, "models", "list", "-q", "lightweight",
                                    "-o", "json").stdout)
    assert PHI_MINI in [m["name"] for m in by_description]
    nothing = run(registry, folder, "models", "list", "--query", "no-such-model-anywhere")
    assert (nothing.exit_code, nothing.stdout) == (0, "No models found.\n")


def test_json_rows_have_every_key_and_mark_managed_custom_models(registry: Azure,
                                                                  tmp_path: Path) -> None:
    registry.custom_model("ours")
    registry.custom_model("theirs")
    folder = write_stack(tmp_path, registry)
    write_managed(folder, ("CustomModel/ours", "/custom-models/ours"))
    rows = json.loads(run(registry, folder, "models", "list", "-o", "json").stdout)
    keys = {"name", "type", "catalog", "status", "version", "versions", "format", "sizeBytes",
            "maxContextLength", "license", "restricted", "createdAt", "description",
            "resourceId", "managed", "address"}
    assert all(set(row) == keys for row in rows)
    by_name = {row["name"]: row for row in rows}
    assert by_name["ours"]["address"] == "CustomModel/ours" and by_name["ours"]["managed"]
    assert not by_name["theirs"]["managed"]
    gated = by_name["meta-llama/Llama-3.1-8B-Instruct"]
    assert (gated["restricted"], gated["status"], gated["maxContextLength"]) == \
        (True, "Restricted", 131072)
    table = run(registry, folder, "models", "list", "--type", "custom").stdout
    assert next(line for line in table.splitlines() if line.startswith("ours ")).endswith(" *")
    assert "1 managed by this state" in table


def test_show_a_catalog_model_by_model_id_or_its_last_segment(azure: Azure,
                                                              tmp_path: Path) -> None:
    folder = write_stack(tmp_path, azure)
    result = run(azure, folder, "models", "show", PHI_MINI)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Base model: {PHI_MINI}\n")
    assert "Context length:  128K" in result.stdout
    assert f"aimodels cost {PHI_MINI}" in result.stdout
    shown = json.loads(run(azure, folder, "models", "show", "phi-4-mini-instruct", "-o",
                           "json").stdout)
    assert (shown["modelId"], shown["type"], shown["maxContextLength"], shown["restricted"]) == \
        (PHI_MINI, "base", 131072, False)
    by_resource = json.loads(run(azure, folder, "models", "show", shown["resourceName"], "-o",
                                 "json").stdout)
    assert by_resource["modelId"] == PHI_MINI


def test_show_a_custom_model_lists_every_version_with_sha256(registry: Azure,
                                                             tmp_path: Path) -> None:
    first = registry.custom_model("coder", "1.0", b"first")
    second = registry.custom_model("coder", "1.1", b"second!")
    folder = write_stack(tmp_path, registry)
    shown = json.loads(run(registry, folder, "models", "show", "CODER", "-o", "json").stdout)
    assert shown["name"] == "coder" and shown["type"] == "custom"
    assert [(v["version"], v["sha256"], v["sizeBytes"]) for v in shown["versions"]] == \
        [("1.1", second, 7), ("1.0", first, 5)]
    text = run(registry, folder, "models", "show", "coder").stdout
    assert "Version 1.1 (latest)" in text and "Version 1.0\n" in text
    assert f"sha256:   {second[:12]}…" in text


def test_show_marks_the_versions_aimodels_registered(registry: Azure, tmp_path: Path) -> None:
    registry.custom_model("coder", "1.0", b"by hand")
    registry.custom_model("coder", "2.0", b"ours")
    registry.custom_model("coder", "3.0", b"ours too")
    folder = write_stack(tmp_path, registry)
    state = State.new().with_resource(ResourceState(
        "CustomModel/coder", "/custom-models/coder", {"version": "3.0"},
        extra={"registeredVersions": ["2.0", "3.0"]}))
    write_state(folder / ".aimodels" / "state.json", state)
    shown = json.loads(run(registry, folder, "models", "show", "coder", "-o", "json").stdout)
    assert [(v["version"], v["managed"]) for v in shown["versions"]] == \
        [("3.0", True), ("2.0", True), ("1.0", False)]
    text = run(registry, folder, "models", "show", "coder").stdout
    assert "Version 3.0 (latest, registered by aimodels)" in text
    assert "Version 2.0 (registered by aimodels)" in text and "Version 1.0\n" in text


def test_show_an_unknown_model_exits_1_and_points_at_the_list(registry: Azure,
                                                              tmp_path: Path) -> None:
    result = run(registry, write_stack(tmp_path, registry), "models", "show", "no-such-model")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no model named no-such-model" in result.stderr
    assert "see `aimodels models list`" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_type_is_a_usage_error(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "models", "list", "--type", "weird")
    assert result.exit_code == 64


def test_invalid_manifests_exit_3(azure: Azure, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: aimodels/v1\nkind: Stack\nspec: {}\n")
    assert run(azure, tmp_path, "models", "list").exit_code == 3


def test_without_a_registry_url_custom_models_are_skipped_with_a_warning(
        azure: Azure, tmp_path: Path) -> None:
    # An azure target with no customModelRegistry: ARM goes to management.azure.com, which the
    # emulator's app answers in-process; the registry has no URL at all.
    folder = write_stack(tmp_path, azure)
    scope = load_scope(ReadTarget((str(folder),), None))
    transport = httpx.ASGITransport(create_app(emulator=azure.running.emulator))

    async def listed() -> object:
        async with AzureClient(ClientConfig(target="azure"), StaticTokenSource(),
                               transport=transport) as client:
            return await read_models(client, scope, "all", None)

    listing = asyncio.run(listed())
    assert listing.rows and {row.type for row in listing.rows} == {"base"}
    assert [w.summary for w in listing.warnings] == [
        "custom models not listed: the Stack names no customModelRegistry"]


def test_target_local_starts_the_embedded_emulator(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(
        "apiVersion: aimodels/v1\nkind: Stack\nmetadata: {name: local}\nspec:\n"
        "  target: local\n  subscriptionId: 00000000-0000-0000-0000-000000000000\n"
        "  resourceGroup: rg-local\n  location: eastus\n  aiManager: mine\n")
    result = CliRunner().invoke(Entry(), ["models", "list", "--type", "base", "-o", "json",
                                           "-f", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert PHI_MINI in [m["name"] for m in json.loads(result.stdout)]
    assert (tmp_path / ".aimodels" / "emulator").is_dir()
