"""The real CLI against real Azure bodies on loopback (``real_azure.ReplayAzure``).

Two scenes, each built only from tests/fixtures/azure:

- **westeurope** (the Azure CLI's live recordings): the account of the recording (moved to
  westeurope, see sources.json), its deployment ``dpy`` (gpt-35-turbo 0125 Standard, no
  raiPolicyName), the recorded location models (one page, no nextLink) and usages (no
  ``status``; the recorded subscription has no PTU quota: every provisioned pool has limit 0);
- **westus** (the 2025-09-01 spec examples): GetAccount, ListLocationModels (the regional
  PTU SKU spelled ``provisioned``), ListUsages, ListModelCapacities.

``validate``, ``deployments list``, ``import``, ``plan``, ``drift``, ``export``,
``availability``, ``apply`` and ``destroy`` must read them with no spurious diff and no false
pre-flight error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_azure import ReplayAzure, derived, example, recorded_body, recording, serve

from aimodels.cli.main import main

EU_SUB = "00000000-0000-0000-0000-000000000000"
EU_ACCOUNT = (f"/subscriptions/{EU_SUB}/resourceGroups/clitest.rg000001/providers/"
              "Microsoft.CognitiveServices/accounts/cs_cli_test_000002")
US_SUB = "00000000-1111-2222-3333-444444444444"

EU_STACK = f"""\
apiVersion: aimodels/v1
kind: Stack
metadata: {{name: recorded}}
spec:
  target: azure
  subscriptionId: {EU_SUB}
  resourceGroup: clitest.rg000001
  location: westeurope
  foundryAccount: cs_cli_test_000002
"""

US_STACK = f"""\
apiVersion: aimodels/v1
kind: Stack
metadata: {{name: examples}}
spec:
  target: azure
  subscriptionId: {US_SUB}
  resourceGroup: myResourceGroup
  location: westus
  foundryAccount: myAccount
"""

#: The recorded deployment, as its manifest says it (no raiPolicyName, no upgrade option).
DPY = """\
apiVersion: aimodels/v1
kind: FoundryDeployment
metadata: {name: dpy}
spec:
  model: {format: OpenAI, name: gpt-35-turbo, version: "0125"}
  sku: {name: Standard, capacity: 1}
"""


def foundry(name: str, model: str, version: str, sku: str, capacity: int) -> str:
    return (f"apiVersion: aimodels/v1\nkind: FoundryDeployment\nmetadata: {{name: {name}}}\n"
            f"spec:\n  model: {{format: OpenAI, name: {model}, version: \"{version}\"}}\n"
            f"  sku: {{name: {sku}, capacity: {capacity}}}\n")


@pytest.fixture
def westeurope() -> Iterator[ReplayAzure]:
    replay = ReplayAzure()
    replay.add_account(derived("account_westeurope"),
                       recorded_body("cli_deployment_2026-05-15-preview", 2)["value"])
    replay.location_models["westeurope"] = \
        recorded_body("cli_location_models_westeurope_2025-09-01")["value"]
    replay.usages["westeurope"] = recorded_body("cli_usages_westeurope_2025-09-01")["value"]
    with serve(replay) as running:
        yield running


@pytest.fixture
def westus() -> Iterator[ReplayAzure]:
    replay = ReplayAzure()
    replay.add_account(example("2025-09-01/GetAccount.json"))
    replay.location_models["westus"] = example("2025-09-01/ListLocationModels.json")["value"]
    replay.usages["westus"] = example("2025-09-01/ListUsages.json")["value"]
    replay.capacities = example("2025-09-01/ListModelCapacities.json")["value"]
    with serve(replay) as running:
        yield running


def stack_dir(tmp_path: Path, stack: str, *docs: str) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir(exist_ok=True)
    (folder / "stack.yaml").write_text(stack)
    for i, doc in enumerate(docs):
        (folder / f"doc{i}.yaml").write_text(doc)
    return folder


def run(capsys: pytest.CaptureFixture[str], replay: ReplayAzure, folder: Path,
        *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--endpoint", replay.url, *args, "-f", str(folder)])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_validate_reads_the_manifests_of_the_recorded_deployment(capsys, westeurope, tmp_path):
    folder = stack_dir(tmp_path, EU_STACK, DPY)
    code, out, err = run(capsys, westeurope, folder, "validate")
    assert code == 0, out + err


def test_deployments_list_shows_the_recorded_deployment(capsys, westeurope, tmp_path):
    folder = stack_dir(tmp_path, EU_STACK)
    code, out, err = run(capsys, westeurope, folder, "deployments", "list", "-o", "json")
    assert code == 0, err
    rows = json.loads(out)
    rows = rows["deployments"] if isinstance(rows, dict) else rows
    [row] = [r for r in rows if r["name"] == "dpy"]
    assert row["sku"] == "Standard" or row.get("sku", {}).get("name") == "Standard", row


def test_import_then_plan_and_drift_of_a_real_deployment_are_clean(capsys, westeurope,
                                                                    tmp_path):
    # The recorded body has no raiPolicyName: a default of ours showed as a change here.
    folder = stack_dir(tmp_path, EU_STACK, DPY)
    code, out, err = run(capsys, westeurope, folder, "import", "--yes", "FoundryDeployment/dpy",
                         f"{EU_ACCOUNT}/deployments/dpy")
    assert code == 0, out + err
    code, out, err = run(capsys, westeurope, folder, "plan", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out or "no changes" in out.lower(), out
    code, out, err = run(capsys, westeurope, folder, "drift")
    assert code == 0, out + err


def test_export_writes_manifests_that_plan_clean(capsys, westeurope, tmp_path):
    folder = stack_dir(tmp_path, EU_STACK)
    out_dir = tmp_path / "exported"
    code, out, err = run(capsys, westeurope, folder, "export", "--kind", "FoundryDeployment",
                         "--out-dir", str(out_dir))
    assert code == 0, out + err
    [written] = sorted(out_dir.glob("*.yaml"))
    assert "gpt-35-turbo" in written.read_text()
    (folder / written.name).write_text(written.read_text())
    code, out, err = run(capsys, westeurope, folder, "plan", "--detailed-exitcode")
    assert code == 1 and "aimodels import FoundryDeployment/dpy" in out + err  # not managed
    code, out, err = run(capsys, westeurope, folder, "import", "--yes", "FoundryDeployment/dpy",
                         f"{EU_ACCOUNT}/deployments/dpy")
    assert code == 0, out + err
    code, out, err = run(capsys, westeurope, folder, "plan", "--detailed-exitcode")
    assert code == 0, out + err


def _errors(out: str) -> dict[str, str]:
    """The error diagnostics of ``plan --format json``, summary by address."""
    doc = json.loads(out)
    return {d["address"]: d["summary"] for d in doc["diagnostics"] if d["severity"] == "error"}


def test_plan_of_ptu_and_global_deployments_has_no_false_preflight_error(capsys, westeurope,
                                                                           tmp_path):
    folder = stack_dir(
        tmp_path, EU_STACK,
        foundry("gs", "gpt-4o", "2024-11-20", "GlobalStandard", 10),
        foundry("gptu", "gpt-4o", "2024-11-20", "GlobalProvisionedManaged", 15),
        foundry("dzptu", "gpt-4o", "2024-11-20", "DataZoneProvisionedManaged", 15),
        foundry("ptu", "gpt-35-turbo", "0125", "ProvisionedManaged", 300))
    code, out, err = run(capsys, westeurope, folder, "plan", "--format", "json")
    assert code == 1, err
    # The recorded subscription has no PTU quota (limit 0 on every provisioned pool): that,
    # and only that, is what pre-flight says about the three PTU deployments. It used to say
    # "SKU ProvisionedManaged is not supported" for the regional one.
    errors = _errors(out)
    assert sorted(errors) == ["FoundryDeployment/dzptu", "FoundryDeployment/gptu",
                              "FoundryDeployment/ptu"], errors
    assert all(s.endswith("(deployment type constraint)") for s in errors.values()), errors


def test_plan_of_a_regional_ptu_on_the_spec_catalog_passes(capsys, westus, tmp_path):
    folder = stack_dir(tmp_path, US_STACK,
                       foundry("ptu", "gpt-4o", "2024-08-06", "ProvisionedManaged", 100),
                       foundry("std", "gpt-4o", "2024-08-06", "Standard", 10))
    code, out, err = run(capsys, westus, folder, "plan", "--format", "json")
    assert code == 0, err
    assert _errors(out) == {}
    assert json.loads(out)["applyable"] is True


def test_availability_of_a_global_ptu_reads_only_the_target_region(capsys, westeurope,
                                                                     tmp_path):
    folder = stack_dir(tmp_path, EU_STACK)
    code, out, err = run(capsys, westeurope, folder, "availability", "gpt-4o", "--version",
                         "2024-11-20", "--sku", "GlobalProvisionedManaged", "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["reason"]["code"] == "DeploymentTypeConstraint"
    assert report["capacity"] == {"defaultSelection": 15, "minimum": 15, "maximum": 30000,
                                  "step": 5}
    models = westeurope.calls("GET", r"/locations/[^/]+/models$")
    assert [m.path.split("/")[-2] for m in models] == ["westeurope"]


def test_apply_and_destroy_follow_the_recorded_lro_shapes(capsys, westeurope, tmp_path):
    # PUT: 201, provisioningState Accepted, no Azure-AsyncOperation/Location/Retry-After
    # (PutDeployment.json); DELETE: 200 at once (the recording).
    folder = stack_dir(tmp_path, EU_STACK, DPY,
                       foundry("chat", "gpt-4o", "2024-11-20", "GlobalStandard", 10))
    code, out, err = run(capsys, westeurope, folder, "import", "--yes", "FoundryDeployment/dpy",
                         f"{EU_ACCOUNT}/deployments/dpy")
    assert code == 0, out + err
    code, out, err = run(capsys, westeurope, folder, "apply", "--yes")
    assert code == 0, out + err
    [put] = westeurope.calls("PUT", r"/deployments/chat$")
    assert "raiPolicyName" not in put.body["properties"]  # the service picks it
    assert westeurope.calls("GET", r"/deployments/chat$")  # watched until Succeeded
    code, out, err = run(capsys, westeurope, folder, "plan", "--detailed-exitcode")
    assert code == 0, out + err
    (folder / "doc1.yaml").unlink()
    code, out, err = run(capsys, westeurope, folder, "apply", "--yes")
    assert code == 0, out + err
    assert len(westeurope.calls("DELETE", r"/deployments/chat$")) == 1
    assert "chat" not in westeurope.deployments[next(iter(westeurope.deployments))]


def test_fixture_recordings_are_what_the_replay_serves():
    """The replay's bodies are the recorded ones (a guard against editing them by accident)."""
    [listed] = [i for i in recording("cli_deployment_2026-05-15-preview")
                if i["request"]["method"] == "GET" and i["response"]["body"]
                and i["response"]["body"].get("value")]
    assert "nextLink" not in listed["response"]["body"]
    [dpy] = listed["response"]["body"]["value"]
    assert "raiPolicyName" not in dpy["properties"] and dpy["etag"].startswith('"')


def test_import_takes_the_etag_header_when_the_body_has_none(capsys, westeurope, tmp_path):
    # GetDeployment.json's body has no etag; real GETs also send an ETag header (recording).
    [key] = westeurope.deployments
    del westeurope.deployments[key]["dpy"]["etag"]
    westeurope.header_etags["dpy"] = '"from-the-header"'
    folder = stack_dir(tmp_path, EU_STACK, DPY)
    code, out, err = run(capsys, westeurope, folder, "import", "--yes", "FoundryDeployment/dpy",
                         f"{EU_ACCOUNT}/deployments/dpy")
    assert code == 0, out + err
    state = json.loads((folder / ".aimodels" / "state.json").read_text())
    [entry] = state["resources"]
    assert entry["etag"] == '"from-the-header"'
