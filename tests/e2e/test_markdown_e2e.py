"""`aimodels plan --format markdown` as a pull-request comment, end to end: the quickstart's plans
parsed the way GitHub parses them (tables, folded details, closed fences), pre-flight errors
shown beside the change they block, and a plan of 1,250 changes under GitHub's 65,535
characters with the errors and the counts still in it."""

from __future__ import annotations

import re
from pathlib import Path

from e2e_support import Cli, edit
from markdown_it import MarkdownIt
from markdown_it.token import Token

GITHUB_LIMIT = 65_535
PARSER = MarkdownIt("commonmark").enable("table")


def tokens(markdown: str) -> list[Token]:
    return PARSER.parse(markdown)


def table_rows(markdown: str) -> list[list[str]]:
    """Body rows of the first table, each cell as its rendered text."""
    rows: list[list[str]] = []
    in_body = False
    for token in tokens(markdown):
        if token.type in ("tbody_open", "tbody_close"):
            in_body = token.type == "tbody_open"
        elif in_body and token.type == "tr_open":
            rows.append([])
        elif in_body and token.type == "inline":
            rows[-1].append("".join(child.content for child in token.children or ()))
    return rows


def assert_well_formed(markdown: str) -> None:
    """What breaks a comment: unbalanced <details>, unclosed fences, stray table pipes."""
    assert markdown.count("<details>") == markdown.count("</details>")
    fences = [t for t in tokens(markdown) if t.type == "fence"]
    assert all(t.info == "diff" for t in fences)
    # An unclosed fence swallows the rest of the document: the last one must not.
    assert all("</details>" not in t.content for t in fences)
    widths = {len(row) for row in table_rows(markdown)}
    assert widths <= {4}


def test_the_quickstart_create_and_replace_plans_read_as_comments(cli: Cli, stack: Path) -> None:
    created = cli("plan", "--format", "markdown")
    assert created.code == 0, created.text
    markdown = created.out
    assert markdown.startswith("## aimodels plan: 4 to create, 0 to update, 0 to replace, "
                               "0 to destroy\n")
    assert_well_formed(markdown)
    assert [row[1] for row in table_rows(markdown)] == [
        "CustomModel/tiny-llama", "FoundryDeployment/gpt4o-chat", "ModelDeployment/phi4-chat",
        "ModelSource/hf-public"]
    assert markdown.count("<details>") == 4

    cli.applied()
    edit(stack / "model-deployment.yaml", "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4")
    edit(stack / "foundry-deployment.yaml", "capacity: 10 ", "capacity: 20 ")
    replaced = cli("plan", "--format", "markdown").out
    assert_well_formed(replaced)
    rows = {row[1]: row for row in table_rows(replaced)}
    assert rows["ModelDeployment/phi4-chat"][0] == "-/+ replace"
    assert "spec.vmSize" in rows["ModelDeployment/phi4-chat"][2]
    assert rows["ModelDeployment/phi4-chat"][3].startswith("+$")
    assert rows["FoundryDeployment/gpt4o-chat"][0] == "~ update"
    [diff] = [t.content for t in tokens(replaced) if t.type == "fence"
              and "spec.vmSize" in t.content]
    assert ('! spec.vmSize: "Standard_NC24ads_A100_v4" -> "Standard_NC48ads_A100_v4" '
            "# forces replacement") in diff


def test_pre_flight_errors_are_listed_and_the_plan_refused(cli: Cli, stack: Path) -> None:
    edit(stack / "foundry-deployment.yaml", 'name: gpt-4o\n    version: "2024-11-20"',
         'name: o4-mini\n    version: "2025-04-16"')
    planned = cli("plan", "--format", "markdown")
    assert planned.code == 1, planned.text
    markdown = planned.out
    assert_well_formed(markdown)
    assert "**This plan cannot be applied: 1 error.**" in markdown
    findings = markdown.split("#### Pre-flight findings", 1)[1].split("####", 1)[0]
    assert re.search(r"^- \*\*error\*\* `FoundryDeployment/gpt4o-chat", findings, re.M)
    assert "(no available quota)" in findings
    # The blocked change says so where a reviewer looks: its row and its folded details.
    rows = {row[1]: row for row in table_rows(markdown)}
    assert rows["FoundryDeployment/gpt4o-chat"][2] == "new; blocked by a pre-flight error"
    assert rows["ModelDeployment/phi4-chat"][2] == "new"
    details = markdown.split("<summary><code>+ FoundryDeployment/gpt4o-chat</code>", 1)[1]
    details = details.split("</details>", 1)[0]
    assert "**pre-flight error:** o4-mini 2025-04-16 GlobalStandard in eastus: not enough " \
        "quota (no available quota)" in details
    # Summary and what to do are on separate lines of the finding, not one run-on paragraph.
    html = PARSER.render(findings)
    assert re.search(r"\(no available quota\) \(\S*foundry-deployment\.yaml:\d+:\d+\)<br>\s*"
                     r"Quota pool OpenAI\.GlobalStandard\.o4-mini", html)


def test_a_plan_of_1250_changes_fits_in_a_github_comment(cli: Cli, stack: Path) -> None:
    long = "A private Hugging Face organisation mirrored for the platform team " * 3
    sources = "---\n".join(
        f"apiVersion: aimodels/v1\nkind: ModelSource\nmetadata:\n  name: org-{i:04d}\n"
        f"spec:\n  sourceType: HuggingFace\n  description: {long.strip()} {i}\n"
        for i in range(1200))
    (stack / "sources.yaml").write_text(sources)
    blocked = "---\n".join(
        f"apiVersion: aimodels/v1\nkind: FoundryDeployment\nmetadata:\n  name: o4-{i:02d}\n"
        "spec:\n  model: {format: OpenAI, name: o4-mini, version: \"2025-04-16\"}\n"
        "  sku: {name: GlobalStandard, capacity: 1}\n" for i in range(46))
    (stack / "blocked.yaml").write_text(blocked)

    planned = cli("plan", "--format", "markdown")
    assert planned.code == 1, planned.err
    markdown = planned.out
    assert len(markdown) < GITHUB_LIMIT
    assert markdown.startswith("## aimodels plan failed: 46 errors\n\nPlanned: 1250 to create, "
                               "0 to update, 0 to replace, 0 to destroy.\n")
    assert "**This plan cannot be applied: 46 errors.**" in markdown
    assert_well_formed(markdown)
    assert "run `aimodels plan` locally for the full plan." in markdown
    assert markdown.count("**error**") >= 1
    assert re.search(r"_\.\.\.and \d+ more (changes|findings) not shown\._", markdown)
