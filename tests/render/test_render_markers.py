"""The hidden marker a CI job finds its PR comment or drift issue by, and the drift report's size
budget (a GitHub issue body, like a comment, is refused over 65,535 characters)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from render_plans import addr, large_plan, one_of_each_plan

from aimodels.plan.drift import (
    CHANGED_OUTSIDE,
    DELETED_OUTSIDE,
    NOT_APPLIED,
    DriftItem,
    DriftReport,
)
from aimodels.plan.values import FieldChange
from aimodels.render.drift import render_drift
from aimodels.render.plan import render_plan
from aimodels.render.plan_markdown import MARKDOWN_BUDGET, render_markdown

GITHUB_LIMIT = 65_535
PARSER = MarkdownIt("commonmark").enable("table")


def drift_report(count: int, fields: int = 6) -> DriftReport:
    """``count`` resources changed outside aimodels, deleted outside it or not applied, in turn."""
    sections = (CHANGED_OUTSIDE, DELETED_OUTSIDE, NOT_APPLIED)
    items = [DriftItem(sections[i % 3], addr(f"ModelDeployment/deployment-{i:05d}"),
                       "changed by someone@example.com",
                       tuple(FieldChange(f"spec.overrides.key{f}", "a" * 20, "b" * 20)
                             for f in range(fields)))
             for i in range(count)]
    return DriftReport(tuple(sorted(items, key=lambda i: (sections.index(i.section),
                                                           i.address))))


def test_the_plan_comment_ends_with_the_stacks_marker_and_github_hides_it() -> None:
    markdown = render_plan(one_of_each_plan(), "markdown", stack="team-alpha-prod")
    assert markdown.endswith("\n\n<!-- aimodels-plan stack=team-alpha-prod -->")
    # CommonMark (as GitHub) reads it as raw HTML: a comment, not text a reader sees.
    html_blocks = [t.content for t in PARSER.parse(markdown) if t.type == "html_block"]
    assert html_blocks[-1].strip() == "<!-- aimodels-plan stack=team-alpha-prod -->"


def test_only_markdown_carries_the_marker_and_only_when_a_stack_is_named() -> None:
    assert "aimodels-plan stack" not in render_markdown(one_of_each_plan())
    for fmt in ("text", "json"):
        assert "<!--" not in render_plan(one_of_each_plan(), fmt, stack="team-alpha-prod")


def test_the_marker_fits_in_the_budget_of_a_plan_that_must_be_cut() -> None:
    markdown = render_markdown(large_plan(2000), stack="team-alpha-prod")
    assert len(markdown) <= MARKDOWN_BUDGET
    assert markdown.startswith("## aimodels plan: ")
    assert markdown.endswith("<!-- aimodels-plan stack=team-alpha-prod -->")


@pytest.mark.parametrize("name", ["a-->b", "x --!> y", "two\nlines"])
def test_a_name_cannot_close_the_marker_early_or_break_its_line(name: str) -> None:
    marker = render_markdown(one_of_each_plan(), stack=name).rsplit("\n", 1)[1]
    assert marker.startswith("<!-- aimodels-plan stack=")
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert "--!>" not in marker


def test_the_drift_report_carries_its_marker_with_drift_and_without() -> None:
    for report in (DriftReport(), drift_report(3)):
        markdown = render_drift(report, "markdown", stack="team-alpha-prod")
        assert markdown.endswith("\n\n<!-- aimodels-drift stack=team-alpha-prod -->")
    assert "<!--" not in render_drift(drift_report(3), "markdown")


def test_a_small_drift_report_is_shown_whole() -> None:
    markdown = render_drift(drift_report(30), "markdown")
    assert "not shown" not in markdown
    assert markdown.count("# ModelDeployment/deployment-") == 30


def test_a_large_drift_report_fits_an_issue_and_counts_what_it_leaves_out() -> None:
    markdown = render_drift(drift_report(3000), "markdown", stack="team-alpha-prod")
    assert len(markdown) <= MARKDOWN_BUDGET < GITHUB_LIMIT
    # The summary counts every resource, whatever is shown.
    assert ("Drift: 1000 changed outside aimodels, 1000 deleted outside aimodels, 1000 with "
            "manifest changes not yet applied.") in markdown
    shown = markdown.count("# ModelDeployment/deployment-")
    assert 0 < shown < 3000
    assert (f"_{3000 - shown} more resources not shown; run `aimodels drift` locally for the "
            "full report._") in markdown
    fences = [t for t in PARSER.parse(markdown) if t.type == "fence"]
    assert fences and all(t.info == "diff" for t in fences)
    assert sum(t.content.count("# ModelDeployment/") for t in fences) == shown
    assert markdown.endswith("<!-- aimodels-drift stack=team-alpha-prod -->")


def test_a_resource_too_large_alone_is_left_out_and_the_others_are_kept() -> None:
    big = DriftItem(CHANGED_OUTSIDE, addr("ModelDeployment/huge"), "changed",
                    tuple(FieldChange(f"spec.overrides.k{i}", "x" * 50, "y" * 50)
                          for i in range(2000)))
    report = DriftReport((big, *drift_report(2).items))
    markdown = render_drift(report, "markdown", budget=20_000)
    assert len(markdown) <= 20_000
    assert "# ModelDeployment/huge" not in markdown
    assert markdown.count("# ModelDeployment/deployment-") == 2
    assert "_1 more resource not shown;" in markdown
