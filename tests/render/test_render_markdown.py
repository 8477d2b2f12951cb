"""The markdown PR comment: structure as GitHub parses it, escaping, and the size budget."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from render_plans import (
    addr,
    errors_only_plan,
    large_plan,
    one_of_each_plan,
    preflight_plan,
    special_characters_plan,
)

from aimodels.errors import error, warning
from aimodels.plan.values import Action, Change, FieldChange, Plan, Reason
from aimodels.render.plan_markdown import MARKDOWN_BUDGET, render_markdown

GITHUB_LIMIT = 65_535
FOLDED = "not shown in detail; run `aimodels plan` locally for the full plan."
PARSER = MarkdownIt("commonmark").enable("table")


def table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first table, each as its cells' inline source."""
    rows: list[list[str]] = []
    in_body = False
    for token in PARSER.parse(markdown):
        if token.type in ("tbody_open", "tbody_close"):
            in_body = token.type == "tbody_open"
        elif in_body and token.type == "tr_open":
            rows.append([])
        elif in_body and token.type == "inline":
            rows[-1].append(_plain(token))
    return rows


def fences(markdown: str) -> list[tuple[str, str]]:
    return [(t.info, t.content) for t in PARSER.parse(markdown) if t.type == "fence"]


def code_spans(markdown: str) -> list[str]:
    return [child.content for token in PARSER.parse(markdown) if token.type == "inline"
            for child in token.children or () if child.type == "code_inline"]


def _plain(token: Token) -> str:
    return "".join(child.content for child in token.children or ())


def test_the_table_has_one_row_per_shown_change() -> None:
    rows = table_rows(render_markdown(one_of_each_plan()))
    assert [row[1] for row in rows] == ["CustomModel/llama-7b-code", "CustomModel/llama-retired",
                                        "FoundryDeployment/gpt4o",
                                        "ModelDeployment/old-chat", "ModelDeployment/phi4-chat",
                                        "ModelDeployment/phi4-new"]
    assert rows[4] == ["-/+ replace", "ModelDeployment/phi4-chat",
                       "immutable field changed (spec.vmSize)", "+$3.68/h"]
    assert all(len(row) == 4 for row in rows)


def test_details_hold_the_fields_in_a_diff_fence() -> None:
    blocks = fences(render_markdown(one_of_each_plan()))
    assert all(info == "diff" for info, _ in blocks)
    replaced = next(body for _, body in blocks if "spec.vmSize" in body and "!" in body)
    assert replaced == ('! spec.scale.replicas: 1 -> 2\n'
                        '! spec.vmSize: "Standard_NC24ads_A100_v4" -> "Standard_NC48ads_A100_v4"'
                        ' # forces replacement\n')


def test_the_heading_of_a_failed_plan_says_it_failed() -> None:
    failed = render_markdown(errors_only_plan())
    assert failed.startswith("## aimodels plan failed: 2 errors\n\n**This plan cannot be "
                             "applied: 2 errors.**")
    assert "no changes" not in failed and "matches" not in failed
    assert render_markdown(preflight_plan()).startswith(
        "## aimodels plan failed: 2 errors\n\nPlanned: 0 to create, 1 to update, 1 to replace, "
        "0 to destroy.\n\n")


def test_findings_and_refusal_are_shown() -> None:
    markdown = render_markdown(preflight_plan())
    assert "**This plan cannot be applied: 2 errors.**" in markdown
    findings = markdown[markdown.index("#### Pre-flight findings"):]
    assert findings.index("**error**") < findings.index("**warning**")
    assert "(deploy/foundry.yaml:12:5)" in findings


def test_values_cannot_break_the_table_or_the_fences() -> None:
    odd_path = FieldChange("spec.overrides.a|b`c", "x|y", "```")
    change = Change(addr("ModelDeployment/odd"), Action.UPDATE,
                    (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,), field_changes=(odd_path,),
                    before={}, after={})
    plan = Plan.build([change], [warning("a | b", address="Model`Deployment/odd")])
    markdown = render_markdown(plan)
    (row,) = table_rows(markdown)
    assert row == ["~ update", "ModelDeployment/odd", "manifest changed (spec.overrides.a|b`c)", ""]
    ((info, body),) = fences(markdown)
    assert info == "diff"
    assert body == '! spec.overrides.a|b`c: "x|y" -> "```"\n'
    assert "Model`Deployment/odd" in code_spans(markdown)


def test_special_values_inside_a_create_stay_inside_their_fence() -> None:
    markdown = render_markdown(special_characters_plan())
    ((_, body),) = fences(markdown)
    assert '+ spec.overrides.template: "```{{x}}``` `y`"\n' in body
    assert '+ spec.overrides.note: "<b>$5 & *bold*</b>"\n' in body


def test_dollars_outside_code_are_escaped_so_github_reads_no_math() -> None:
    markdown = render_markdown(one_of_each_plan())
    outside_fences = re.sub(r"```diff\n.*?\n```", "", markdown, flags=re.S)
    assert "$" in outside_fences
    assert re.search(r"(?<!\\)\$", outside_fences) is None


def test_a_plan_of_2000_changes_stays_under_githubs_limit() -> None:
    markdown = render_markdown(large_plan(2000))
    assert len(markdown) <= MARKDOWN_BUDGET < GITHUB_LIMIT
    assert f"_2000 changes {FOLDED}_" in markdown
    assert "#### Pre-flight findings" in markdown
    assert re.search(r"_\.\.\.and \d+ more changes not shown\._", markdown)
    rows = table_rows(markdown)
    assert len(rows) > 100
    # Destructive changes are kept first when the table itself must be cut.
    assert {row[0] for row in rows} == {"-/+ replace"}


def test_a_plan_of_10000_changes_says_how_many_rows_it_leaves_out() -> None:
    """The table of a huge plan is cut, never silently: the rows shown and the count left out
    add up to every change, and the comment says where the whole plan is."""
    markdown = render_markdown(large_plan(10_000), stack="big")

    assert len(markdown) <= MARKDOWN_BUDGET < GITHUB_LIMIT
    shown = len(table_rows(markdown))
    hidden = re.search(r"_\.\.\.and (\d+) more changes not shown\._", markdown)
    assert hidden is not None and shown > 100
    assert shown + int(hidden.group(1)) == 10_000
    assert f"_10000 changes {FOLDED}_" in markdown
    assert markdown.endswith("<!-- aimodels-plan stack=big -->")


def test_a_medium_plan_keeps_the_table_and_folds_the_largest_details() -> None:
    markdown = render_markdown(large_plan(150))
    assert len(markdown) <= MARKDOWN_BUDGET
    assert len(table_rows(markdown)) == 150
    shown = markdown.count("<details>")
    assert f"_{150 - shown} changes {FOLDED}_" in markdown
    # Replaces have 2 field lines, creates and deletes 6: the big ones are folded first.
    assert markdown.count("must be replaced</summary>") == 50
    assert 0 < shown < 150


@pytest.mark.parametrize("budget", [1_500, 5_000, 20_000])
def test_smaller_budgets_are_honoured(budget: int) -> None:
    for plan in (large_plan(300), preflight_plan(), one_of_each_plan()):
        assert len(render_markdown(plan, budget=budget)) <= budget


def test_errors_are_kept_before_warnings_when_findings_are_cut() -> None:
    diagnostics = [warning(f"warning number {i}", "x" * 200, address="ModelDeployment/w")
                   for i in range(100)]
    plan = preflight_plan().with_diagnostics(diagnostics)
    markdown = render_markdown(plan, budget=4_000)
    assert markdown.count("**error**") == 2
    assert re.search(r"_\.\.\.and \d+ more findings not shown\._", markdown)


def test_a_blocked_change_keeps_its_row_first_when_the_table_is_cut() -> None:
    # dep-0597 is a create, which a cut table would otherwise drop before any replace.
    blocked = error("not enough quota", "Lower the capacity.",
                    address="ModelDeployment/dep-0597")
    markdown = render_markdown(large_plan(600).with_diagnostics([blocked]), budget=6_000)
    rows = table_rows(markdown)
    assert 1 < len(rows) < 600
    assert ["+ create", "ModelDeployment/dep-0597", "new; blocked by a pre-flight error",
            "+$3.67/h"] in rows
    assert {row[0] for row in rows if row[1] != "ModelDeployment/dep-0597"} == {"-/+ replace"}
