"""The local backend: reading (missing, corrupt, unknown version), atomic writes with serial and
lineage, never a half-written file, and the keyed digest for secrets."""

from __future__ import annotations

import dataclasses
import json
import stat
import time

import pytest

from aimodels.errors import EXIT_CONFLICT, AimodelsError, PreconditionError
from aimodels.state.local import claim_state, default_state_path, read_state, write_state
from aimodels.state.values import ResourceState, StackIdentity, State, secret_digest

DEPLOYMENT = ResourceState(
    address="ModelDeployment/chat",
    resource_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/aiManagers/m/namespaces/prod/modelDeployments/chat",
    desired={"vmSize": "Standard_NC24ads_A100_v4", "scale": {"replicas": 1}},
    etag='"3"',
    prevent_destroy=True,
    extra={"lro": {"kind": "async-operation"}},
)
SOURCE = ResourceState(address="ModelSource/hf", resource_id="/subscriptions/s/x/modelSources/hf")


def test_default_path_is_beside_the_stack_file(tmp_path):
    assert default_state_path(tmp_path / "stack.yaml") == tmp_path / ".aimodels" / "state.json"


def test_missing_file_reads_as_an_empty_state_with_a_new_lineage(tmp_path):
    first, second = read_state(tmp_path / "state.json"), read_state(tmp_path / "state.json")
    assert first.resources == () and first.serial == 0
    assert first.lineage != second.lineage
    assert len(bytes.fromhex(first.digest_key)) == 32


def test_write_then_read_round_trips_and_bumps_the_serial(tmp_path):
    path = tmp_path / ".aimodels" / "state.json"
    state = read_state(path).with_resource(DEPLOYMENT).with_resource(SOURCE)
    written = write_state(path, state)
    assert written.serial == 1
    again = read_state(path)
    assert again == written
    assert again.addresses == ["ModelDeployment/chat", "ModelSource/hf"]
    assert again.get("ModelDeployment/chat") == DEPLOYMENT
    assert write_state(path, again).serial == 2
    assert read_state(path).lineage == state.lineage


def test_file_is_stable_json_readable_only_by_its_owner(tmp_path):
    path = tmp_path / "state.json"
    write_state(path, read_state(path).with_resource(DEPLOYMENT))
    data = json.loads(path.read_text())
    assert data["formatVersion"] == 1 and data["serial"] == 1
    assert data["resources"][0]["preventDestroy"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().endswith("}\n")


def test_with_resource_replaces_and_without_removes():
    state = State.new().with_resource(SOURCE).with_resource(DEPLOYMENT)
    changed = state.with_resource(ResourceState("ModelSource/hf", "/new"))
    assert changed.get("ModelSource/hf").resource_id == "/new"
    assert len(changed.resources) == 2
    assert changed.without("ModelSource/hf").addresses == ["ModelDeployment/chat"]
    assert state.get("ModelSource/hf") == SOURCE  # values are not changed in place


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param('{"formatVersion": 1, "lineage": ', "not valid JSON", id="truncated"),
        pytest.param("", "not valid JSON", id="empty"),
        pytest.param('{"formatVersion": 2}', "formatVersion 2", id="future-version"),
        pytest.param("[1, 2]", "invalid at (top level)", id="not-an-object"),
        pytest.param(
            '{"formatVersion": 1, "lineage": "l", "serial": "7", "digestKey": "'
            + "a" * 64
            + '", "resources": []}',
            "invalid at serial",
            id="wrong-type",
        ),
        pytest.param(
            '{"formatVersion": 1, "lineage": "l", "serial": 1, "digestKey": "' + "a" * 64 + '", '
            '"resources": [{"address": "ModelSource/a", "resourceId": "x"}, '
            '{"address": "ModelSource/a", "resourceId": "y"}]}',
            "ModelSource/a more than once",
            id="duplicate-address",
        ),
        pytest.param(
            '{"formatVersion": 1, "lineage": "l", "serial": 1, "digestKey": "' + "a" * 64 + '", '
            '"resources": [{"address": "Widget/a", "resourceId": "x"}]}',
            "'Widget/a' is not Kind/name with a known kind (ModelSource, CustomModel",
            id="unknown-kind",
        ),
        pytest.param(
            '{"formatVersion": 1, "lineage": "l", "serial": 1, "digestKey": "' + "a" * 64 + '", '
            '"resources": [{"address": "ModelSource/a", "resourceId": "x", '
            '"extra": {"secretDigests": "x"}}]}',
            "invalid at resources/0/extra/secretDigests",
            id="digests-not-an-object",
        ),
        pytest.param(
            '{"formatVersion": 1, "lineage": "l", "serial": 1, "digestKey": "' + "a" * 64 + '", '
            '"resources": [{"address": "CustomModel/a", "resourceId": "x", '
            '"extra": {"registeredVersions": 5}}]}',
            "invalid at resources/0/extra/registeredVersions",
            id="registered-versions-not-a-list",
        ),
        pytest.param(b"\xff\xfe{}", "is not UTF-8 text (byte 0)", id="not-utf-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON", id="nested-too-deep"),
    ],
)
def test_unreadable_state_is_a_clear_error_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "state.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(AimodelsError) as info:
        read_state(path)
    assert type(info.value) is AimodelsError
    assert str(path) in info.value.message
    assert expected in info.value.message


def test_a_crash_mid_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "state.json"
    old = write_state(path, read_state(path).with_resource(SOURCE))
    before = path.read_bytes()

    def crash_halfway(handle, data):
        handle.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    with pytest.raises(AimodelsError) as info:
        write_state(path, old.with_resource(DEPLOYMENT), write=crash_halfway)
    assert "No space left on device" in info.value.message
    assert "intact" in info.value.hint
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_an_interrupt_mid_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "state.json"
    old = write_state(path, read_state(path))
    before = path.read_bytes()

    def interrupted(handle, data):
        handle.write(data[:10])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_state(path, old.with_resource(DEPLOYMENT), write=interrupted)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_write_from_a_stale_read_is_refused(tmp_path):
    path = tmp_path / "state.json"
    write_state(path, read_state(path))
    mine, theirs = read_state(path), read_state(path)
    write_state(path, theirs.with_resource(SOURCE))
    with pytest.raises(PreconditionError) as info:
        write_state(path, mine.with_resource(DEPLOYMENT))
    assert info.value.exit_code == EXIT_CONFLICT
    assert "changed since it was read" in info.value.message
    assert read_state(path).addresses == ["ModelSource/hf"]


def test_two_fresh_states_cannot_both_create_the_file(tmp_path):
    path = tmp_path / "state.json"
    first, second = read_state(path), read_state(path)
    write_state(path, first)
    with pytest.raises(PreconditionError, match="lineage"):
        write_state(path, second)


def test_secret_digest_is_keyed_and_never_shows_the_secret():
    token = "hf_canary_token_123"
    key_a, key_b = b"a" * 32, b"b" * 32
    digest = secret_digest(key_a, token)
    assert digest.startswith("hmac-sha256:") and len(digest) == len("hmac-sha256:") + 64
    assert token not in digest
    assert digest == secret_digest(key_a, token)
    assert digest != secret_digest(key_b, token)
    assert digest != secret_digest(key_a, token + "x")


def test_state_digest_uses_its_own_key_and_survives_a_round_trip(tmp_path):
    path = tmp_path / "state.json"
    state = write_state(path, read_state(path))
    assert read_state(path).secret_digest("t") == state.secret_digest("t")
    assert State.new().secret_digest("t") != state.secret_digest("t")


def test_a_file_where_the_state_folder_goes_is_a_clear_error(tmp_path):
    (tmp_path / ".aimodels").write_text("not a folder")
    with pytest.raises(AimodelsError) as info:
        read_state(tmp_path / ".aimodels" / "state.json")
    assert info.value.message.startswith(f"{tmp_path / '.aimodels'} is a file")


def test_duplicates_are_found_in_one_pass_over_many_resources(tmp_path):
    """30,000 entries with one duplicate: named, and quickly (the old check was quadratic:
    about 10 s here, against well under a second now)."""
    path = tmp_path / "state.json"
    entries = [{"address": f"ModelSource/s{i}", "resourceId": f"/s{i}"} for i in range(30_000)]
    entries.append({"address": "ModelSource/s42", "resourceId": "/again"})
    path.write_text(json.dumps({"formatVersion": 1, "lineage": "l", "serial": 1,
                                "digestKey": "a" * 64, "resources": entries}))
    started = time.perf_counter()
    with pytest.raises(AimodelsError, match="lists ModelSource/s42 more than once"):
        read_state(path)
    assert time.perf_counter() - started < 4


ALPHA = StackIdentity("team-alpha", "azure", "11111111-2222-3333-4444-555555555555", "rg-alpha")


def test_the_first_write_records_the_stack_and_a_read_for_it_accepts_it(tmp_path):
    path = tmp_path / "state.json"
    written = write_state(path, read_state(path, ALPHA).with_resource(SOURCE))
    assert json.loads(path.read_text())["stack"] == {
        "name": "team-alpha", "target": "azure", "resourceGroup": "rg-alpha",
        "subscriptionId": "11111111-2222-3333-4444-555555555555"}
    assert read_state(path, ALPHA) == written
    assert read_state(path).stack == ALPHA


@pytest.mark.parametrize("stack", [
    pytest.param(dataclasses.replace(ALPHA, name="team-beta"), id="name"),
    pytest.param(dataclasses.replace(ALPHA, target="local"), id="target"),
    pytest.param(dataclasses.replace(ALPHA, subscription_id="22222222-0000-0000-0000-0"),
                 id="subscription"),
    pytest.param(dataclasses.replace(ALPHA, resource_group="rg-beta"), id="resource-group"),
])
def test_a_state_of_another_stack_is_refused_naming_both(tmp_path, stack):
    path = tmp_path / "state.json"
    written = write_state(path, read_state(path, ALPHA))
    with pytest.raises(AimodelsError) as info:
        read_state(path, stack)
    assert info.value.exit_code == 1
    assert f"the state records     {ALPHA.describe()}, lineage {written.lineage}" in \
        info.value.message
    assert f"the manifests declare {stack.describe()}" in info.value.message
    assert "aimodels state rehome" in info.value.hint


def test_subscription_and_resource_group_compare_in_any_case(tmp_path):
    path = tmp_path / "state.json"
    write_state(path, read_state(path, ALPHA))
    shouting = dataclasses.replace(ALPHA, resource_group="RG-ALPHA",
                                   subscription_id=ALPHA.subscription_id.upper())
    assert read_state(path, shouting).stack == ALPHA  # the recorded spelling is kept


def test_a_state_that_records_no_stack_is_taken_as_this_ones(tmp_path):
    path = tmp_path / "state.json"
    legacy = write_state(path, read_state(path).with_resource(SOURCE))
    assert "stack" not in json.loads(path.read_text())
    claimed = claim_state(path, legacy, ALPHA)
    assert claimed.stack == ALPHA and claimed.resources == legacy.resources
    write_state(path, claimed)
    assert read_state(path).stack == ALPHA
