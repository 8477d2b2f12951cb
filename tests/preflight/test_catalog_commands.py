"""``aimodels availability`` and ``aimodels cost`` end to end: manifests for the Stack, the
emulator reached through AIMODELS_ENDPOINT, exit codes through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimodels.cli.main import main

STACK = """\
apiVersion: aimodels/v1
kind: Stack
metadata:
  name: quickstart
spec:
  target: azure
  subscriptionId: 00000000-0000-0000-0000-000000000000
  resourceGroup: rg-quickstart
  location: eastus
  aiManager: quickstart
  foundryAccount: quickstart-foundry
"""


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "stack.yaml").write_text(STACK)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out, out.err


def test_availability_prints_the_region_table(emulator, manifests, capsys, monkeypatch):
    monkeypatch.setenv("AIMODELS_ENDPOINT", emulator.url)
    code, out, err = run(capsys, "availability", "gpt-4o", "-f", str(manifests))
    assert code == 0, err
    assert out.splitlines()[0] == "gpt-4o 2024-11-20 (OpenAI) can be deployed in eastus as " \
                                  "GlobalStandard."
    assert any(line.split()[:6] == ["eastus", "GlobalStandard", "yes", "yes", "350", "1-10000,"]
               for line in out.splitlines())


def test_availability_of_an_unavailable_model_exits_zero_with_the_reason(emulator, manifests,
                                                                         capsys):
    code, out, _ = run(capsys, "--endpoint", emulator.url, "availability", "o4-mini",
                       "--sku", "GlobalStandard", "-f", str(manifests))
    assert code == 0
    assert "o4-mini 2025-04-16 GlobalStandard in eastus: not enough quota (no available quota)" \
        in out


def test_availability_json_has_the_seed_004_shape(emulator, manifests, capsys):
    code, out, _ = run(capsys, "--endpoint", emulator.url, "availability", "OpenAI/o3-mini",
                       "--location", "swedencentral", "-o", "json", "-f", str(manifests))
    assert code == 0
    body = json.loads(out)
    assert body["deploymentLocation"] == "swedencentral" and body["available"] is True
    assert body["sku"]["defaultSelection"] == "GlobalStandard"
    assert "eastus2" in body["sku"]["selectedSkuSupportedRegions"]
    assert body["version"]["options"] == [{"name": "2025-01-31", "isDefault": True,
                                           "lifecycleStatus": "GenerallyAvailable",
                                           "hasQuota": True}]


def test_availability_of_a_model_in_no_region(emulator, manifests, capsys):
    code, out, _ = run(capsys, "--endpoint", emulator.url, "availability", "gpt-5", "-o", "json",
                       "-f", str(manifests))
    assert code == 0
    assert json.loads(out)["reason"]["code"] == "ModelNotInSubscription"


def test_cost_prints_the_ranked_plans(emulator, manifests, capsys):
    code, out, err = run(capsys, "--endpoint", emulator.url, "cost",
                         "microsoft/Phi-4-mini-instruct", "--replicas", "2", "-f", str(manifests))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "microsoft/Phi-4-mini-instruct in eastus, 2 replicas (USD, prices as of " \
                       "2026-08-01)"
    first = next(line for line in lines if line.lstrip().startswith("1 "))
    assert first.split()[:2] == ["1", "Standard_NC4as_T4_v3"] and first.split()[-1] == "yes"
    assert any("no: RegionUnavailable" in line for line in lines)


def test_cost_json_is_the_calculate_cost_answer(emulator, manifests, capsys):
    code, out, _ = run(capsys, "--endpoint", emulator.url, "cost", "microsoft/Phi-4-mini-instruct",
                       "-o", "json", "-f", str(manifests))
    body = json.loads(out)
    assert code == 0
    assert body["model"] == "microsoft/Phi-4-mini-instruct" and body["location"] == "eastus"
    assert body["replicas"] == 1 and body["currency"] == "USD"
    feasible = [p["feasible"] for p in body["plans"]]
    assert feasible == sorted(feasible, reverse=True)  # feasible first


def test_cost_of_a_model_not_in_the_catalog_exits_1(emulator, manifests, capsys):
    code, _, err = run(capsys, "--endpoint", emulator.url, "cost", "nobody/none",
                       "-f", str(manifests))
    assert code == 1
    assert "error: nobody/none is not in the model catalog of eastus" in err
    assert "Traceback" not in err


def test_without_manifests_the_commands_exit_3(tmp_path, capsys, emulator):
    code, _, err = run(capsys, "--endpoint", emulator.url, "availability", "gpt-4o",
                       "-f", str(tmp_path))
    assert code == 3, err
