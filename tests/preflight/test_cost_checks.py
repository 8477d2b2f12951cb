"""The pure ModelDeployment checks and prices (calculateCost answers in, CostEstimate,
notes and diagnostics out), the plan's total, and CustomModel upload notes."""

from __future__ import annotations

import pytest
from preflight_data import cost_body

from aimodels.errors import Severity
from aimodels.live.preflight import custom_model_notes, plan_cost, sizing_of
from aimodels.model.address import ResourceAddress
from aimodels.plan.preflight_cost import (
    HOURS_PER_MONTH,
    CostRequest,
    QuoteKey,
    Sizing,
    evaluate_cost,
    parse_quote,
)
from aimodels.plan.values import Action, Change, CostEstimate, Plan, Reason
from aimodels.weights.units import human_size

A100 = "Standard_NC24ads_A100_v4"
PHI = "microsoft/Phi-4-mini-instruct"


def sizing(vm: str = A100, floor: int = 1, ceiling: int | None = None, autoscale: bool = False,
           model: str | None = "phi") -> Sizing:
    return Sizing(model, PHI if model else "custom model mine", vm, floor,
                  ceiling if autoscale else floor, autoscale)


def outcome(action: Action, before: Sizing | None, after: Sizing | None,
            infeasible: dict | None = None, missing: bool = False):
    request = CostRequest("ModelDeployment/chat", action, "eastus", before, after)
    quotes = {key: None if missing else parse_quote(cost_body(key.replicas, infeasible))
              for key in request.quote_keys()}
    return request, evaluate_cost(request, quotes)


def test_parse_quote_reads_the_ranked_plans():
    quote = parse_quote(cost_body(2, {A100: ("RegionUnavailable", "not here")}))
    assert quote.replicas == 2 and quote.currency == "USD"
    assert quote.plan_for(A100.lower()).infeasible_code == "RegionUnavailable"
    assert [p.vm_size for p in quote.cheapest_feasible()] == ["Standard_NC4as_T4_v3",
                                                              "Standard_NC48ads_A100_v4"]


def test_a_create_is_priced_after_only():
    _, out = outcome(Action.CREATE, None, sizing(floor=2))
    assert out.estimate == CostEstimate("USD", None, 7.346)
    assert out.diagnostics == () and out.notes == ()


def test_prices_multiply_vms_per_replica():
    _, out = outcome(Action.CREATE, None, sizing("Standard_NC4as_T4_v3", floor=3))
    assert out.estimate.hourly_after == pytest.approx(3 * 2 * 0.526)


@pytest.mark.parametrize(("code", "severity"), [
    pytest.param("RegionUnavailable", Severity.ERROR, id="region"),
    pytest.param("InsufficientQuota", Severity.ERROR, id="quota"),
    pytest.param("InefficientDeployment", Severity.WARNING, id="inefficient"),
])
def test_an_infeasible_create_names_the_code_the_message_and_the_cheapest_feasible(code, severity):
    _, out = outcome(Action.CREATE, None, sizing(), {A100: (code, "the message")})
    [diag] = out.diagnostics
    assert diag.severity is severity
    assert diag.summary == f"{A100} is not feasible for {PHI} in eastus ({code}, 1 replica(s))"
    assert "the message" in diag.detail
    assert "Cheapest feasible: Standard_NC4as_T4_v3 ($1.05/h per replica, awq-int4, 2 VMs " \
           "per replica)" in diag.detail
    assert diag.address == "ModelDeployment/chat" and diag.path == "spec.vmSize"
    assert out.estimate.hourly_after == 3.673  # still priced from vmHourlyPrice


def test_a_size_calculate_cost_does_not_list_is_an_error():
    _, out = outcome(Action.CREATE, None, sizing("Standard_Bogus"))
    [diag] = out.diagnostics
    assert diag.severity is Severity.ERROR
    assert diag.summary == f"Standard_Bogus cannot host {PHI} in eastus"
    assert out.estimate is None


def test_a_model_missing_from_the_catalog_is_an_error():
    _, out = outcome(Action.CREATE, None, sizing(), missing=True)
    [diag] = out.diagnostics
    assert diag.summary == f"{PHI} is not in the model catalog of eastus"
    assert diag.path == "spec.model.catalog"


def test_a_replace_short_of_quota_is_only_a_warning():
    _, out = outcome(Action.REPLACE, sizing("Standard_NC48ads_A100_v4"), sizing(),
                     {A100: ("InsufficientQuota", "no GPUs")})
    [diag] = out.diagnostics
    assert diag.severity is Severity.WARNING and "releases its GPUs first" in diag.detail
    assert out.estimate == CostEstimate("USD", 7.346, 3.673)


def test_an_update_checks_only_the_replicas_it_adds():
    request, out = outcome(Action.UPDATE, sizing(floor=1), sizing(floor=3),
                           {A100: ("InsufficientQuota", "2 more do not fit")})
    assert request.check_key() == QuoteKey("phi", "eastus", 2)
    [diag] = out.diagnostics
    assert "(InsufficientQuota, adding 2 replica(s))" in diag.summary
    assert out.estimate == CostEstimate("USD", 3.673, 3 * 3.673)


def test_an_update_that_shrinks_needs_no_check():
    _, out = outcome(Action.UPDATE, sizing(floor=3), sizing(floor=1),
                     {A100: ("InsufficientQuota", "the live replicas hold it")})
    assert out.diagnostics == ()
    assert out.estimate.hourly_delta == pytest.approx(-2 * 3.673)


def test_a_delete_is_priced_before_only():
    request, out = outcome(Action.DELETE, sizing(floor=2), None)
    assert request.check_key() is None
    assert out.estimate == CostEstimate("USD", 7.346, None)


def test_autoscale_prices_the_floor_checks_the_ceiling_and_says_so():
    request, out = outcome(Action.CREATE, None, sizing(floor=1, ceiling=4, autoscale=True))
    assert request.check_key() == QuoteKey("phi", "eastus", 4)
    assert out.estimate.hourly_after == 3.673
    assert out.notes == ("autoscale: priced at minReplicas 1 ($3.67/h); up to maxReplicas 4 "
                         "($14.69/h)",)


def test_autoscale_without_a_ceiling_says_it_is_unknown():
    _, out = outcome(Action.CREATE, None, sizing(floor=2, ceiling=None, autoscale=True))
    assert "derives maxReplicas from the GPU quota" in out.notes[0]


def test_a_custom_model_is_not_priced_and_says_why():
    request, out = outcome(Action.CREATE, None, sizing(model=None))
    assert request.quote_keys() == set()
    assert out.estimate is None and out.diagnostics == ()
    assert out.notes == ("planned cost not estimated: calculateCost prices catalog models only "
                         "(custom model mine)",)


def test_sizing_reads_manual_and_autoscale_specs():
    manual = sizing_of({"vmSize": A100, "model": {"catalog": PHI}, "scale": {"replicas": 2}})
    assert (manual.floor, manual.ceiling, manual.autoscale) == (2, 2, False)
    assert manual.model_label == PHI
    auto = sizing_of({"vmSize": A100, "model": {"catalog": PHI},
                      "scale": {"autoscale": {"minReplicas": 1, "maxReplicas": 4}}})
    assert (auto.floor, auto.ceiling, auto.reserved) == (1, 4, 4)
    live = sizing_of({"vmSize": A100, "model": {
        "catalog": "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus"
                   "/aiModels/0123456789abcdef"}})
    assert live.model == "0123456789abcdef" and live.floor == 1
    assert sizing_of(None) is None


def test_the_catalog_name_is_the_hash_the_provider_sends():
    from aimodels.model.arm import catalog_model_name

    assert sizing_of({"vmSize": A100, "model": {"catalog": PHI}}).model == catalog_model_name(PHI)


def _change(address: str, action: Action, cost: CostEstimate | None = None, **kw) -> Change:
    reasons = () if action is Action.NOOP else (Reason.CREATE_BECAUSE_NOT_IN_LIVE,)
    return Change(ResourceAddress.parse(address), action, reasons, cost=cost, **kw)


def test_the_plan_total_sums_every_priced_change_per_hour_and_month():
    plan = Plan.build([
        _change("ModelDeployment/a", Action.CREATE, CostEstimate("USD", None, 3.673)),
        _change("ModelDeployment/b", Action.DELETE, CostEstimate("USD", 7.346, None)),
        _change("ModelDeployment/c", Action.UPDATE, CostEstimate("USD", 1.0, 2.0)),
        _change("FoundryDeployment/d", Action.CREATE),
    ])
    total = plan_cost(plan)
    assert total.hourly_before == pytest.approx(8.346)
    assert total.hourly_after == pytest.approx(5.673)
    assert total.hourly_delta == pytest.approx(-2.673)
    assert total.monthly_delta == pytest.approx(-2.673 * HOURS_PER_MONTH)
    assert total.to_dict()["monthlyDelta"] == round(-2.673 * 730, 2)
    assert plan_cost(Plan.build([_change("FoundryDeployment/d", Action.CREATE)])) is None


SHA = "3f2a" + "0" * 60


@pytest.mark.parametrize(("action", "live_sha", "note"), [
    pytest.param(Action.CREATE, None, "upload 13.5 GB (sha256 3f2a…)", id="create"),
    pytest.param(Action.REPLACE, "9" * 64, "upload 13.5 GB (sha256 3f2a…)", id="replace"),
    pytest.param(Action.UPDATE, "9" * 64, "upload 13.5 GB (sha256 3f2a…)", id="new-version"),
    pytest.param(Action.UPDATE, SHA, "weights unchanged (sha256 3f2a…)", id="tags-only"),
    pytest.param(Action.NOOP, SHA, "weights unchanged (sha256 3f2a…)", id="no-op"),
])
def test_custom_model_notes_say_what_moves(action, live_sha, note):
    after = {"version": "1", "weights": {"sha256": SHA, "size": 13_476_839_424}}
    before = {"version": "1", "weights": {"sha256": live_sha, "size": 1}} if live_sha else None
    change = _change("CustomModel/llama", action, before=before, after=after)
    assert custom_model_notes(change) == (note,)


def test_custom_model_notes_say_where_the_weights_are():
    after = {"version": "1", "weights": {"sha256": SHA, "size": 13_476_839_424}}
    change = _change("CustomModel/llama", Action.CREATE, after=after)
    assert custom_model_notes(change, "weights/llama.safetensors") == (
        "upload 13.5 GB from weights/llama.safetensors (sha256 3f2a…)",)
    same = _change("CustomModel/llama", Action.NOOP, before=after, after=after)
    assert custom_model_notes(same, "/mnt/models/llama") == (
        "weights unchanged (/mnt/models/llama, sha256 3f2a…)",)


def test_a_custom_model_delete_or_url_has_no_note():
    deleted = _change("CustomModel/x", Action.DELETE, before={"version": "1"})
    assert custom_model_notes(deleted) == ()
    assert custom_model_notes(_change("CustomModel/x", Action.CREATE, after={"version": "1"})) == ()


@pytest.mark.parametrize(("size", "text"), [(999, "999 B"), (1500, "1.5 kB"),
                                            (13_476_839_424, "13.5 GB"), (2 * 10**12, "2.0 TB")])
def test_human_size_uses_decimal_units(size, text):
    assert human_size(size) == text
