"""The field diff under a FieldPolicy: paths, defaults, kept live values, secrets, immutables."""

from __future__ import annotations

from aimodels.plan.diff import (
    FieldPolicy,
    SecretDigests,
    delete_path,
    diff_specs,
    dotted,
    mask,
    remembered,
    with_defaults,
)
from aimodels.plan.values import SENSITIVE_VALUE, Reason

POLICY = FieldPolicy(immutable=("vmSize", "model"), secret=("credential.secret",),
                     defaults={"mode": "Balanced", "scale.autoscale.minReplicas": 1},
                     computed_if_unset=("scale.autoscale.maxReplicas",))


def _paths(diff) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.path for c in diff.field_changes]


def test_equal_specs_have_no_changes() -> None:
    spec = {"vmSize": "A", "scale": {"replicas": 1}, "tags": {"x": "1"}}
    assert diff_specs(spec, spec, POLICY).field_changes == ()


def test_paths_are_rooted_at_spec_and_immutables_force_replacement() -> None:
    found = diff_specs({"vmSize": "B", "model": {"catalog": "x"}, "tags": {"a.b": "2"}},
                       {"vmSize": "A", "model": {"catalog": "y"}, "tags": {"a.b": "1"}}, POLICY)
    assert _paths(found) == ["spec.model.catalog", 'spec.tags["a.b"]', "spec.vmSize"]
    assert found.replace_paths == ("spec.model.catalog", "spec.vmSize")
    assert found.reasons == (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,)
    vm = next(c for c in found.field_changes if c.path == "spec.vmSize")
    assert (vm.before, vm.after) == ("A", "B")


def test_defaults_fill_both_sides_but_never_bring_in_an_unused_block() -> None:
    found = diff_specs({"scale": {"replicas": 2}}, {"scale": {"replicas": 2}, "mode": "Balanced"},
                       POLICY)
    assert found.field_changes == ()
    assert found.planned == {"scale": {"replicas": 2}, "mode": "Balanced"}
    assert with_defaults({"scale": {"autoscale": {}}}, POLICY.defaults)["scale"] == {
        "autoscale": {"minReplicas": 1}}


def test_service_chosen_fields_are_compared_only_when_set() -> None:
    live = {"scale": {"autoscale": {"minReplicas": 1, "maxReplicas": 7}}}
    assert diff_specs({"scale": {"autoscale": {}}}, live, POLICY).field_changes == ()
    found = diff_specs({"scale": {"autoscale": {"maxReplicas": 3}}}, live, POLICY)
    assert _paths(found) == ["spec.scale.autoscale.maxReplicas"]


def test_ignored_paths_keep_the_live_value_in_the_planned_spec() -> None:
    found = diff_specs({"scale": {"replicas": 1}, "vmSize": "A"},
                       {"scale": {"replicas": 9}, "vmSize": "A"}, POLICY,
                       ignore=("scale.replicas",))
    assert found.field_changes == ()
    assert found.planned["scale"] == {"replicas": 9}


def test_secrets_compare_by_digest_and_never_carry_values() -> None:
    spec = {"credential": {"secret": SENSITIVE_VALUE}}
    same = SecretDigests({"credential.secret": "d1"}, {"credential.secret": "d1"})
    assert diff_specs(spec, spec, POLICY, secrets=same).field_changes == ()
    rotated = SecretDigests({"credential.secret": "d2"}, {"credential.secret": "d1"})
    (change,) = diff_specs(spec, spec, POLICY, secrets=rotated).field_changes
    assert change.sensitive and change.path == "spec.credential.secret"
    assert change.before == change.after == SENSITIVE_VALUE
    unknown_prior = SecretDigests({"credential.secret": "d2"}, {})
    assert diff_specs(spec, spec, POLICY, secrets=unknown_prior).field_changes


def test_an_unresolved_secret_is_a_warning_not_a_guess() -> None:
    spec = {"credential": {"secret": SENSITIVE_VALUE}}
    found = diff_specs(spec, spec, POLICY, secrets=SecretDigests({}, {"credential.secret": "d"}))
    assert found.field_changes == ()
    assert "not resolved" in found.warnings[0]


def test_ignoring_a_secret_skips_the_digest_check() -> None:
    spec = {"credential": {"secret": SENSITIVE_VALUE}}
    rotated = SecretDigests({"credential.secret": "d2"}, {"credential.secret": "d1"})
    found = diff_specs(spec, spec, POLICY, secrets=rotated, ignore=("credential",))
    assert found.field_changes == ()


def test_mask_and_remembered() -> None:
    assert mask({"credential": {"secret": "x"}}, POLICY) == {
        "credential": {"secret": SENSITIVE_VALUE}}
    assert mask(None, POLICY) is None
    assert remembered({"a": 1}, {"a": 2, "w": {"s": "h"}}, ["a", "w", "missing"]) == {
        "a": 1, "w": {"s": "h"}}


def test_path_helpers() -> None:
    assert dotted(["overrides", "values", 0, "a/b"]) == "overrides.values[0].a/b"
    spec = {"a": {"b": {"c": 1}}, "d": 2}
    delete_path(spec, "a.b.c")
    assert spec == {"d": 2}


def test_the_equality_shortcut_still_sees_type_changes_and_list_items() -> None:
    # Unchanged specs skip deepdiff; values equal in Python but of another type must not.
    found = diff_specs({"scale": {"replicas": 1}, "tags": ["a", "b"]},
                       {"scale": {"replicas": 1.0}, "tags": ["a", "c"]}, POLICY)
    assert _paths(found) == ["spec.scale.replicas", "spec.tags[1]"]
    same = {"credential": {"secret": SENSITIVE_VALUE}, "tags": [{"k": True}]}
    assert diff_specs(same, dict(same), POLICY).field_changes == ()
    assert _paths(diff_specs({"tags": [{"k": True}]}, {"tags": [{"k": 1}]}, POLICY)) == [
        "spec.tags[0].k"]
