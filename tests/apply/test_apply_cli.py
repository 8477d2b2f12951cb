"""`apply`, `destroy`, saved plans and the state commands through the real entry point, on a
copy of examples/quickstart, against an emulator served over HTTP (``--endpoint``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from apply_support import arm, deployment_path

from aimodels.cli.main import main
from aimodels.emulator.server import RunningEmulator
from aimodels.state.lock import acquire_lock

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    folder = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns(".aimodels"))
    return folder


def run(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        *args: str) -> tuple[int, str, str]:
    """``aimodels --endpoint URL <args> -f STACK``, in-process, exit handling included."""
    command, rest = args[0], list(args[1:])
    argv = ["--endpoint", emulator.url, *command.split(), *rest, "-f", str(stack)]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def set_replicas(stack: Path, replicas: int) -> None:
    manifest = stack / "model-deployment.yaml"
    manifest.write_text(manifest.read_text().replace("replicas: 1 ", f"replicas: {replicas} "))


def test_quickstart_apply_then_plan_shows_no_changes(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 0, err
    assert "Plan: 4 to create" in out
    assert "Apply complete: 4 done." in out
    assert "ModelDeployment/phi4-chat: creating" in out
    assert f"ModelDeployment/phi4-chat: {emulator.url}/inference/" in out
    assert 'aimodels chat phi4-chat "Hello"' in out

    code, out, err = run(capsys, emulator, stack, "plan", "--detailed-exitcode")
    assert code == 0, out + err

    code, out, _ = run(capsys, emulator, stack, "apply", "--yes")
    assert (code, out.strip()) == (0, "No changes.")


def test_apply_without_a_terminal_needs_yes(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    code, _, err = run(capsys, emulator, stack, "apply")
    assert code == 64
    assert "--yes" in err
    assert not (stack / ".aimodels" / "state.json").exists()
    assert not (stack / ".aimodels" / "state.lock").exists()


def test_a_second_apply_fails_fast_naming_the_lock_holder(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    with acquire_lock(stack / ".aimodels", "aimodels apply") as held:
        code, out, err = run(capsys, emulator, stack, "apply", "--yes")
        assert code == 6
        assert "State is locked by" in err and f"pid {held.info.pid}" in err
        assert out == ""
        code, _, err = run(capsys, emulator, stack, "destroy", "--yes")
        assert code == 6
    assert not (stack / ".aimodels" / "state.json").exists()


def test_a_failed_change_exits_7_and_the_rest_is_done(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A gated model through a source whose token has no access (the emulator's hf_noaccess
    # tokens): pre-flight passes (the source has a credential), the weights pull fails.
    manifest = stack / "model-deployment.yaml"
    manifest.write_text(manifest.read_text().replace(
        "microsoft/Phi-4-mini-instruct", "meta-llama/Llama-3.1-8B-Instruct").replace(
        "  vmSize:", "  modelSource: hf-public\n  vmSize:"))
    source = stack / "model-source.yaml"
    source.write_text(source.read_text() + "  credential: {fromEnv: HF_TOKEN}\n")
    monkeypatch.setenv("HF_TOKEN", "hf_noaccess_token")

    code, out, err = run(capsys, emulator, stack, "apply", "--yes")

    assert code == 7, err
    assert "ModelAccessDenied" in out
    assert "Failed: ModelDeployment/phi4-chat" in out
    assert "error: Apply incomplete: 3 done, 1 failed, 0 skipped." in err
    code, out, _ = run(capsys, emulator, stack, "state", "list")
    assert "FoundryDeployment/gpt4o-chat" in out and "CustomModel/tiny-llama" in out


def test_saved_plan_is_applied_exactly(capsys: pytest.CaptureFixture[str],
                                       emulator: RunningEmulator, stack: Path,
                                       tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    code, _, err = run(capsys, emulator, stack, "plan", "--out", str(saved))
    assert code == 0, err

    code, out, err = run(capsys, emulator, stack, "apply", str(saved))

    assert code == 0, err
    assert "Apply complete: 4 done." in out
    code, _, _ = run(capsys, emulator, stack, "plan", "--detailed-exitcode")
    assert code == 0


def test_saved_plan_is_refused_when_the_manifests_changed(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    run(capsys, emulator, stack, "plan", "--out", str(saved))
    set_replicas(stack, 2)

    code, _, err = run(capsys, emulator, stack, "apply", str(saved))

    assert code == 6
    assert "stale" in err and "manifests changed" in err
    assert not (stack / ".aimodels" / "state.json").exists()


def test_saved_plan_is_refused_when_the_state_moved(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    run(capsys, emulator, stack, "plan", "--out", str(saved))
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0

    code, _, err = run(capsys, emulator, stack, "apply", str(saved))

    assert code == 6 and "state file was written" in err


def test_saved_plan_is_refused_when_a_live_etag_changed(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        tmp_path: Path, outside: httpx.Client) -> None:
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0
    set_replicas(stack, 2)
    saved = tmp_path / "plan.json"
    run(capsys, emulator, stack, "plan", "--out", str(saved))
    patched = arm(outside, "PATCH", deployment_path("phi4-chat"),
                  {"properties": {"performanceMode": "Latency"}})
    assert patched.status_code == 200

    code, _, err = run(capsys, emulator, stack, "apply", str(saved))

    assert code == 6
    assert "ModelDeployment/phi4-chat changed (ETag" in err
    live = arm(outside, "GET", deployment_path("phi4-chat")).json()
    assert live["properties"]["scale"] == {"manual": {"replicas": 1}}


def test_an_errored_plan_is_refused(capsys: pytest.CaptureFixture[str],
                                    emulator: RunningEmulator, stack: Path) -> None:
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0
    manifest = stack / "model-deployment.yaml"
    manifest.write_text(manifest.read_text().replace(
        "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4")
        + "  lifecycle: {preventDestroy: true}\n")

    code, out, err = run(capsys, emulator, stack, "apply", "--yes")

    assert code == 1
    assert "nothing was applied" in err
    assert "preventDestroy" in out + err


def test_destroy_deletes_everything_in_state(capsys: pytest.CaptureFixture[str],
                                             emulator: RunningEmulator, stack: Path,
                                             outside: httpx.Client) -> None:
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0

    code, out, err = run(capsys, emulator, stack, "destroy", "--yes",
                         "--target", "ModelSource/hf-public")
    assert code == 0, err
    assert "Plan: 0 to create, 0 to update, 0 to replace, 1 to destroy." in out

    code, out, err = run(capsys, emulator, stack, "destroy", "--yes")
    assert code == 0, err
    assert "Destroy complete: 3 done." in out
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 404
    code, out, _ = run(capsys, emulator, stack, "state", "list")
    assert out.strip() == "The state holds no resource."


def test_destroy_target_says_destroy_requested_and_names_the_catalog_model(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    """It used to say "no longer in the manifests" and show the hashed AIModel id."""
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0

    code, out, err = run(capsys, emulator, stack, "destroy", "--yes",
                         "--target", "ModelDeployment/phi4-chat")

    assert code == 0, err
    assert "# Destroy was requested (aimodels destroy)" in out
    assert "no longer in the manifests" not in out
    assert '- spec.model.catalog: "microsoft/Phi-4-mini-instruct"' in out
    assert "aiModels/" not in out
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 404


def test_destroy_honours_prevent_destroy_written_in_the_manifests(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    """The flag is in the manifest but no apply recorded it yet: destroy still refuses."""
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0
    manifest = stack / "model-deployment.yaml"
    manifest.write_text(manifest.read_text() + "  lifecycle: {preventDestroy: true}\n")

    code, out, err = run(capsys, emulator, stack, "destroy", "--yes",
                         "--target", "ModelDeployment/phi4-chat")

    assert code == 1 and "nothing was applied" in err
    assert "ModelDeployment/phi4-chat has lifecycle.preventDestroy" in out
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 200


def test_prevent_destroy_added_to_an_applied_deployment_is_planned_recorded_and_guards(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path,
        outside: httpx.Client) -> None:
    """It used to be "No changes", the state kept false, and removing the entry deleted it."""
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0
    etag = arm(outside, "GET", deployment_path("phi4-chat")).json()["eTag"]
    manifest = stack / "model-deployment.yaml"
    written = manifest.read_text()
    manifest.write_text(written + "  lifecycle: {preventDestroy: true}\n")

    code, out, _ = run(capsys, emulator, stack, "plan", "--detailed-exitcode")
    assert code == 2
    assert "  * ModelDeployment/phi4-chat {\n      ~ spec.lifecycle.preventDestroy: false -> " \
           "true\n" in out
    assert out.rstrip().endswith("1 lifecycle change to record.")
    code, out, _ = run(capsys, emulator, stack, "plan", "--format", "json")
    (change,) = [c for c in json.loads(out)["changes"] if c["fieldChanges"]]
    assert (change["action"], change["reasons"]) == ("no-op", ["record_because_lifecycle_changed"])

    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 0, err
    assert "ModelDeployment/phi4-chat: lifecycle recorded in the state" in out
    assert "Apply complete: 1 done." in out and "aimodels chat" not in out  # nothing new to try
    assert arm(outside, "GET", deployment_path("phi4-chat")).json()["eTag"] == etag
    assert "preventDestroy:  true" in run(capsys, emulator, stack, "state", "show",
                                          "ModelDeployment/phi4-chat")[1]
    assert run(capsys, emulator, stack, "plan", "--detailed-exitcode")[0] == 0

    manifest.unlink()
    code, out, err = run(capsys, emulator, stack, "apply", "--yes")
    assert code == 1 and "nothing was applied" in err
    assert "The manifest entry is gone but the state keeps the guard" in out
    assert arm(outside, "GET", deployment_path("phi4-chat")).status_code == 200


def test_state_commands(capsys: pytest.CaptureFixture[str], emulator: RunningEmulator,
                        stack: Path) -> None:
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0

    code, out, _ = run(capsys, emulator, stack, "state", "list", "-o", "json")
    entries = json.loads(out)
    assert [e["address"] for e in entries] == [
        "CustomModel/tiny-llama", "FoundryDeployment/gpt4o-chat", "ModelDeployment/phi4-chat",
        "ModelSource/hf-public"]
    code, out, _ = run(capsys, emulator, stack, "state", "show", "ModelDeployment/phi4-chat")
    assert "etag:" in out and '"vmSize": "Standard_NC24ads_A100_v4"' in out
    code, out, _ = run(capsys, emulator, stack, "state", "rm", "ModelSource/hf-public")
    assert code == 0 and "still exists in Azure" in out
    code, _, err = run(capsys, emulator, stack, "state", "show", "ModelSource/hf-public")
    assert code == 1 and "is not in the state" in err

    code, out, err = run(capsys, emulator, stack, "plan")
    assert code == 1 and "aimodels import ModelSource/hf-public" in out + err


def test_force_unlock_releases_a_lock_left_behind(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    held = acquire_lock(stack / ".aimodels", "aimodels apply")
    code, _, err = run(capsys, emulator, stack, "force-unlock", "not-the-id")
    assert code == 6 and held.info.id in err
    code, out, _ = run(capsys, emulator, stack, "force-unlock", held.info.id)
    assert code == 0 and "Released the state lock" in out
    assert run(capsys, emulator, stack, "apply", "--yes")[0] == 0


def test_apply_with_a_target_changes_only_it_and_what_it_needs(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    code, out, err = run(capsys, emulator, stack, "apply", "--yes", "--parallelism", "2",
                         "--target", "FoundryDeployment/gpt4o-chat")
    assert code == 0, err
    assert "Apply complete: 1 done." in out
    code, out, _ = run(capsys, emulator, stack, "state", "list")
    assert out.split()[0] == "FoundryDeployment/gpt4o-chat" and len(out.splitlines()) == 1


def test_apply_loads_the_manifests_once_and_shows_their_warnings_once(
        capsys: pytest.CaptureFixture[str], emulator: RunningEmulator, stack: Path) -> None:
    """apply used to load the manifests twice (to take the lock, then to plan): twice the
    CPU of its start at thousands of manifests, and every loader warning printed twice."""
    (stack / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n")

    code, out, err = run(capsys, emulator, stack, "apply", "--yes")

    assert code == 0, err
    assert "Apply complete: 4 done." in out
    assert err.count("configmap.yaml") == 1, err
