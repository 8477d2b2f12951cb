"""The text plan: Terraform's shape, colour only on request, costs and summary lines."""

from __future__ import annotations

import re

import pytest
from render_plans import (
    cost_plan,
    create,
    empty_plan,
    errors_only_plan,
    forget_plan,
    one_of_each_plan,
    preflight_plan,
    replace_plan,
    replace_vm_size,
    unchanged,
)

from aimodels.errors import EXIT_USAGE, UsageError
from aimodels.plan.values import Action, Change, CostEstimate, Plan, Reason
from aimodels.render.plan import PLAN_FORMATS, render_plan
from aimodels.render.plan_cost import cost_totals, money
from aimodels.render.plan_text import render_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_a_replace_shows_its_header_reason_cost_and_forcing_field() -> None:
    text = render_text(replace_plan())
    assert "  # ModelDeployment/phi4-chat must be replaced\n" in text
    assert "  # A field that cannot change in place changed" in text
    assert "  # cost: $3.67/h -> $7.35/h (+$3.68/h)\n" in text
    assert "-/+ ModelDeployment/phi4-chat {\n" in text
    assert ('      ~ spec.vmSize: "Standard_NC24ads_A100_v4" -> "Standard_NC48ads_A100_v4" '
            "# forces replacement\n") in text
    assert "      ~ spec.scale.replicas: 1 -> 2\n" in text


def test_the_legend_lists_only_the_symbols_used() -> None:
    text = render_text(replace_plan())
    assert "-/+ destroy and then create replacement" in text
    assert "+ create" not in text and "~ update in place" not in text


def test_creates_show_the_planned_fields_and_deletes_what_goes() -> None:
    text = render_text(one_of_each_plan())
    assert '      + spec.model.catalog: "microsoft/Phi-4-mini-instruct"\n' in text
    assert '      - spec.vmSize: "Standard_NC24ads_A100_v4"\n' in text
    assert '      - spec.raiPolicyName: "Microsoft.DefaultV2"\n' in text
    assert '      + spec.versionUpgradeOption: "OnceNewDefaultVersionAvailable"\n' in text


def test_pre_flight_notes_follow_the_reasons() -> None:
    text = render_text(one_of_each_plan())
    assert ("  # It is in the manifests and does not exist in Azure yet.\n"
            "  # upload 13.5 GB from weights/llama-7b.safetensors (sha256 3f2a9c0d…)\n"
            "  + CustomModel/llama-7b-code {\n") in text


def test_unchanged_resources_are_not_shown() -> None:
    text = render_text(one_of_each_plan())
    assert "ModelDeployment/steady" not in text


def test_summary_lines() -> None:
    assert render_text(one_of_each_plan()).endswith(
        "Plan: 2 to create, 1 to update, 1 to replace, 1 to destroy, 1 to forget.")
    assert render_text(replace_plan()).endswith(
        "Plan: 0 to create, 0 to update, 1 to replace, 0 to destroy.")
    assert render_text(empty_plan()) == "No changes. Your infrastructure matches the manifests."
    assert "1 to forget" in render_text(forget_plan())


def test_a_plan_with_only_errors_never_says_it_matches() -> None:
    text = render_text(errors_only_plan())
    assert "matches" not in text
    assert text.endswith("No changes planned: the plan failed.\n"
                         "This plan cannot be applied: 2 errors.")


def test_an_errored_plan_says_it_cannot_be_applied() -> None:
    text = render_text(preflight_plan())
    assert text.endswith("This plan cannot be applied: 2 errors.")
    assert "cannot be applied" not in render_text(replace_plan())


def test_findings_list_errors_before_warnings_with_address_and_detail() -> None:
    text = render_text(preflight_plan())
    findings = text[text.index("Pre-flight findings:"):]
    first_warning = findings.index("warning: FoundryDeployment/gpt4o, spec.model.version")
    assert findings.index("error: ModelDeployment/phi4-chat, spec.vmSize") < first_warning
    assert "deploy/foundry.yaml:12:5: error: FoundryDeployment/gpt4o" in findings
    assert "    Lower sku.capacity to at most 150, or request more quota.\n" in findings


def test_the_plan_cost_is_summed_per_hour_and_per_month() -> None:
    text = render_text(cost_plan())
    # +3.67 (create) +3.68 (replace) -2.50 (delete) = +4.85/h; x 730 h = 3,540.50
    assert "Cost change: +$4.85/h, +$3,540.50/month (730 h) over 3 priced changes.\n" in text
    assert "Cost change" not in render_text(Plan.build([create("unpriced")]))


def test_a_replace_without_field_changes_says_so() -> None:
    change = Change(replace_vm_size().address, Action.REPLACE, (Reason.REPLACE_BECAUSE_REQUESTED,),
                    before={"vmSize": "a"}, after={"vmSize": "a"})
    text = render_text(Plan.build([change]))
    assert "        # (no field changes)\n" in text
    assert "Replacement was requested with --replace." in text


def test_colour_is_styling_only_and_off_by_default() -> None:
    plan = preflight_plan()
    plain, coloured = render_text(plan), render_text(plan, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain


def test_rendering_is_deterministic_whatever_the_input_order() -> None:
    changes = list(one_of_each_plan().changes)
    forward, backward = Plan.build(changes), Plan.build(reversed(changes))
    for fmt in PLAN_FORMATS:
        assert render_plan(forward, fmt) == render_plan(backward, fmt)


def test_render_plan_dispatches_and_refuses_an_unknown_format() -> None:
    plan = replace_plan()
    assert render_plan(plan, "text") == render_text(plan)
    assert render_plan(plan, "json").startswith("{\n")
    assert render_plan(plan, "markdown").startswith("## aimodels plan:")
    with pytest.raises(UsageError) as caught:
        render_plan(plan, "yaml")
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(("amount", "currency", "signed", "expected"), [
    pytest.param(3.67, "USD", False, "$3.67", id="plain"),
    pytest.param(3.68, "USD", True, "+$3.68", id="signed"),
    pytest.param(-2.5, "USD", True, "-$2.50", id="negative"),
    pytest.param(2686.4, "USD", True, "+$2,686.40", id="thousands"),
    pytest.param(0.0012, "USD", False, "$0.0012", id="tiny"),
    pytest.param(0.0, "USD", True, "$0.00", id="zero-has-no-sign"),
    pytest.param(1.5, "EUR", False, "€1.50", id="euro"),
    pytest.param(1.5, "CHF", True, "+1.50 CHF", id="other-currency"),
])
def test_money(amount: float, currency: str, signed: bool, expected: str) -> None:
    assert money(amount, currency, signed=signed) == expected


def test_cost_totals_never_add_two_currencies() -> None:
    usd = create("a", cost=CostEstimate(hourly_after=2.0))
    eur = create("b", cost=CostEstimate(currency="EUR", hourly_after=1.0))
    totals = cost_totals([usd, eur, unchanged()])
    assert [(t.currency, t.hourly_delta, t.priced) for t in totals] == [("EUR", 1.0, 1),
                                                                        ("USD", 2.0, 1)]
    assert totals[1].monthly_delta == 1460.0


def test_control_codes_are_dropped_alike_with_and_without_colour() -> None:
    # the plain text is joined from the lines' parts, the coloured one printed from rich
    # Text: both drop the control codes rich strips (bell, backspace, VT, FF, CR)
    noisy = "\a\b\v\f\r"
    change = Change(create("odd").address, Action.CREATE, (Reason.CREATE_BECAUSE_NOT_IN_LIVE,),
                    after={"vmSize": "a"}, warnings=(f"odd{noisy}warning",),
                    notes=(f"a{noisy}note",))
    plan = Plan.build([change])
    plain, coloured = render_text(plan), render_text(plan, color=True)
    assert "# warning: oddwarning\n" in plain and "# anote\n" in plain
    assert not set(noisy) & set(plain)
    assert ANSI.sub("", coloured) == plain
