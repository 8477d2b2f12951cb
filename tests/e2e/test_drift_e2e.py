"""`aimodels drift` end to end: changes made through the emulator's API behind aimodels' back,
deletions, and manifest edits not yet applied, each in its own section, with the exit codes a
cron job acts on (0 nothing moved, 2 drift found)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from e2e_support import Cli, arm, deployment_path, edit, foundry_path, source_path
from markdown_it import MarkdownIt

SECTION_TITLES = ("Changed outside aimodels", "Deleted outside aimodels",
                  "Manifest changes not yet applied")


def sections(text: str) -> dict[str, str]:
    """The text report cut at its section titles (``Title (N):``)."""
    found: dict[str, str] = {}
    pattern = re.compile(rf"^({'|'.join(SECTION_TITLES)}) \((\d+)\):$", re.MULTILINE)
    marks = list(pattern.finditer(text))
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        found[mark.group(1)] = text[mark.end(): following.start() if following else len(text)]
    return found


def test_nothing_moved_exits_0(cli: Cli) -> None:
    cli.applied()
    quiet = cli("drift")
    assert quiet.code == 0, quiet.text
    assert quiet.out.strip() == ("No drift. Azure matches the last apply, and the manifests "
                                 "have nothing unapplied.")


def test_each_kind_of_drift_lands_in_its_own_section(cli: Cli, stack: Path,
                                                     outside: httpx.Client) -> None:
    cli.applied()
    patched = arm(outside, "PATCH", deployment_path("phi4-chat"),
                  {"properties": {"scale": {"manual": {"replicas": 3}}}})
    assert patched.status_code == 200, patched.text
    resized = arm(outside, "PATCH", foundry_path("gpt4o-chat"),
                  {"sku": {"name": "GlobalStandard", "capacity": 30}})
    assert resized.status_code in (200, 202), resized.text
    assert arm(outside, "DELETE", source_path("hf-public")).status_code == 200
    edit(stack / "custom-model.yaml", "purpose: demo", "purpose: smoke-test")

    found = cli("drift")
    assert found.code == 2, found.text
    parts = sections(found.out)
    assert list(parts) == list(SECTION_TITLES)
    changed = parts["Changed outside aimodels"]
    assert "# FoundryDeployment/gpt4o-chat: changed by" in changed
    assert "~   spec.sku.capacity: 10 -> 30" in changed
    assert "# ModelDeployment/phi4-chat: changed by" in changed
    assert "~   spec.scale.replicas: 1 -> 3" in changed
    assert "ModelSource" not in changed and "CustomModel" not in changed
    assert "# ModelSource/hf-public: it is in the state but no longer in Azure" in \
        parts["Deleted outside aimodels"]
    not_applied = parts["Manifest changes not yet applied"]
    assert "# CustomModel/tiny-llama: edited since the last apply" in not_applied
    assert '~   spec.tags.purpose: "demo" -> "smoke-test"' in not_applied
    assert "Drift: 2 changed outside aimodels, 1 deleted outside aimodels" in found.out


def test_json_and_markdown_reports_carry_the_same_sections(cli: Cli, stack: Path,
                                                           outside: httpx.Client) -> None:
    cli.applied()
    arm(outside, "PATCH", deployment_path("phi4-chat"),
        {"properties": {"scale": {"manual": {"replicas": 2}}}})
    assert arm(outside, "DELETE", foundry_path("gpt4o-chat")).status_code in (200, 202)
    edit(stack / "model-source.yaml", "description: Public Hugging Face models",
         "description: Public ```HF``` models")

    as_json = cli("drift", "--format", "json")
    assert as_json.code == 2, as_json.text
    report = json.loads(as_json.out)
    assert report["hasDrift"] is True
    by_section = {name: [item["address"] for item in items]
                  for name, items in report["sections"].items()}
    assert by_section == {"changed_outside": ["ModelDeployment/phi4-chat"],
                          "deleted_outside": ["FoundryDeployment/gpt4o-chat"],
                          "not_applied": ["ModelSource/hf-public"]}
    [replicas] = report["sections"]["changed_outside"][0]["fieldChanges"]
    assert (replicas["path"], replicas["before"], replicas["after"]) == (
        "spec.scale.replicas", 1, 2)

    as_markdown = cli("drift", "--format", "markdown")
    assert as_markdown.code == 2
    headings = re.findall(r"^#### (.+)$", as_markdown.out, re.MULTILINE)
    assert headings == list(SECTION_TITLES)
    fences = [t for t in MarkdownIt("commonmark").parse(as_markdown.out) if t.type == "fence"]
    assert [f.info for f in fences] == ["diff"] * 3
    assert fences[0].content.startswith("# ModelDeployment/phi4-chat: changed by ")
    assert fences[0].content.endswith("\n! spec.scale.replicas: 1 -> 2\n")
    # A value with backticks stays inside its fence.
    assert '! spec.description: "Public Hugging Face models" -> "Public ```HF``` models"' \
        in fences[2].content


def test_a_plan_after_drift_says_it_was_changed_outside_and_apply_restores_it(
        cli: Cli, outside: httpx.Client) -> None:
    cli.applied()
    arm(outside, "PATCH", deployment_path("phi4-chat"),
        {"properties": {"scale": {"manual": {"replicas": 4}}}})
    planned = cli("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert "~ spec.scale.replicas: 4 -> 1" in planned.out
    assert "changed outside aimodels" in planned.out.lower()
    cli.applied()
    live = arm(outside, "GET", deployment_path("phi4-chat")).json()
    assert live["properties"]["scale"] == {"manual": {"replicas": 1}}
    assert cli("drift").code == 0


def test_a_manifest_edit_alone_is_drift_not_yet_applied(cli: Cli, stack: Path) -> None:
    cli.applied()
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 ")
    found = cli("drift")
    assert found.code == 2, found.text
    assert list(sections(found.out)) == ["Manifest changes not yet applied"]
    assert "~   spec.sku.capacity: 10 -> 20" in found.out


def test_resources_never_applied_are_not_yet_applied(cli: Cli) -> None:
    found = cli("drift")
    assert found.code == 2, found.text
    not_applied = sections(found.out)["Manifest changes not yet applied"]
    assert not_applied.count("declared but never applied") == 4
