"""Every Microsoft.CognitiveServices body the emulator answers fits the 2025-09-01 definitions
shipped in azure-mgmt-cognitiveservices (``wire_shapes.problems``: no undeclared key, no
mistyped value, enum values from the spec, and the SDK's deserializer accepts it).

The same check over Azure's real bodies (tests/fixtures/azure) shows where the real service
sends more than the definitions declare; those known extras are listed, so a new one is noticed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from wire_shapes import problems

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "replay"))
from real_azure import example, recorded_body  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000000"
PROV = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.CognitiveServices"
ACCOUNT = f"{RG}/accounts/quickstart-foundry"
Q = {"api-version": "2025-09-01"}
BODY = {"sku": {"name": "GlobalStandard", "capacity": 10},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}


@pytest.fixture(params=["headers", "recorded"])
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    config = EmulatorConfig(lro_seconds=0.05, fidelity=request.param)
    with start_in_thread(config) as running, httpx.Client(
            base_url=running.url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def fits(model: str, response: httpx.Response) -> Any:
    body = response.json()
    assert problems(model, body) == [], (response.request.url, body)
    return body


def test_every_read_fits_the_sdk_definitions(api: httpx.Client) -> None:
    fits("AccountListResult", api.get(f"{PROV}/accounts", params=Q))
    fits("Account", api.get(ACCOUNT, params=Q))
    fits("ApiKeys", api.post(f"{ACCOUNT}/listKeys", params=Q))
    for region in ("eastus", "westeurope", "japaneast"):
        models = fits("ModelListResult", api.get(f"{PROV}/locations/{region}/models", params=Q))
        assert models["value"]
        fits("UsageListResult", api.get(f"{PROV}/locations/{region}/usages", params=Q))
    fits("AccountModelListResult", api.get(f"{ACCOUNT}/models", params=Q))
    query = {**Q, "modelFormat": "OpenAI", "modelName": "gpt-4o", "modelVersion": "2024-11-20"}
    assert fits("ModelCapacityListResult", api.get(f"{PROV}/modelCapacities", params=query))
    fits("ModelCapacityListResult",
         api.get(f"{PROV}/locations/eastus/modelCapacities", params=query))


def test_every_deployment_write_and_read_fits_the_sdk_definitions(api: httpx.Client) -> None:
    fits("DeploymentListResult", api.get(f"{ACCOUNT}/deployments", params=Q))
    created = api.put(f"{ACCOUNT}/deployments/chat", params=Q, json=BODY)
    assert created.status_code == 201
    fits("Deployment", created)  # Accepted or Creating: both DeploymentProvisioningStates
    operation = created.headers.get("Azure-AsyncOperation")
    if operation:
        assert {"id", "name", "status", "startTime"} <= set(api.get(operation).json())
    _settle(api)
    fits("Deployment", api.get(f"{ACCOUNT}/deployments/chat", params=Q))
    patched = api.patch(f"{ACCOUNT}/deployments/chat", params=Q,
                        json={"sku": {"name": "GlobalStandard", "capacity": 12}})
    assert patched.status_code == 202
    fits("Deployment", api.get(f"{ACCOUNT}/deployments/chat", params=Q))  # Accepted
    _settle(api)
    fits("DeploymentListResult", api.get(f"{ACCOUNT}/deployments", params=Q))
    assert api.delete(f"{ACCOUNT}/deployments/chat", params=Q).status_code in (200, 202)


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("GET", f"{ACCOUNT}/deployments/nope", None),
    ("PUT", f"{ACCOUNT}/deployments/bad", {"sku": {"name": "Nope", "capacity": 1},
                                           "properties": BODY["properties"]}),
    ("PUT", f"{ACCOUNT}/deployments/big", {"sku": {"name": "GlobalStandard",
                                                   "capacity": 9999},
                                           "properties": BODY["properties"]}),
    ("GET", f"{PROV}/modelCapacities", None),
])
def test_errors_fit_the_error_response(api: httpx.Client, method: str, path: str,
                                       payload: Any) -> None:
    response = api.request(method, path, params=Q, json=payload)
    assert response.status_code >= 400
    fits("ErrorResponse", response)


def _settle(api: httpx.Client) -> None:
    """Wait the 0.05 s operation out (the account takes one write at a time)."""
    for _ in range(100):
        state = api.get(f"{ACCOUNT}/deployments/chat", params=Q).json()
        if state["properties"]["provisioningState"] == "Succeeded":
            return
    raise AssertionError("the operation did not finish")


#: What real bodies carry beyond the SDK's 2025-09-01 definitions (the recordings): location
#: models are full ARM resources (id, type, name, location), a model has a ``description``,
#: SKUs list ``costs`` (the SDK's model says ``cost``) and their ``rateLimits`` items are
#: throttling rules with a ``key`` (the SDK types them CallRateLimit). Clients must ignore
#: them; the emulator does not send them.
KNOWN_REAL_EXTRAS = {"id", "type", "name", "location", "description", "costs", "key"}


@pytest.mark.parametrize(("model", "body"), [
    ("ModelListResult", example("2025-09-01/ListLocationModels.json")),
    ("ModelListResult", recorded_body("cli_location_models_westeurope_2025-09-01")),
    ("UsageListResult", example("2025-09-01/ListUsages.json")),
    ("UsageListResult", recorded_body("cli_usages_westeurope_2025-09-01")),
    ("ModelCapacityListResult", example("2025-09-01/ListModelCapacities.json")),
    ("Deployment", example("2025-09-01/GetDeployment.json")),
    ("Deployment", recorded_body("cli_deployment_2026-05-15-preview", 3)),
    ("DeploymentListResult", example("2024-10-01/ListDeployments.json")),
    ("Account", example("2025-09-01/GetAccount.json")),
], ids=lambda v: v if isinstance(v, str) else "")
def test_real_bodies_fit_too_apart_from_known_extras(model: str, body: Any) -> None:
    found = problems(model, json.loads(json.dumps(body)))
    extras = {p.split(": ")[0].rsplit(".", 1)[-1] for p in found}
    assert all(p.endswith(f": not in {p.split(': not in ')[-1]}") for p in found), found
    assert extras <= KNOWN_REAL_EXTRAS, found


def test_the_check_names_unknown_keys_wrong_types_and_values_outside_an_enum() -> None:
    body = {"name": "d", "sku": {"name": "Standard", "capacity": "10"}, "nextLink": None,
            "properties": {"provisioningState": "Updating", "raiPolicyName": None,
                           "model": {"format": "OpenAI", "name": "gpt-4o", "version": 1}}}
    assert problems("Deployment", body) == [
        "$.sku.capacity: '10' is not int",
        "$.nextLink: not in Deployment",
        "$.properties.provisioningState: 'Updating' is not a DeploymentProvisioningState",
        "$.properties.model.version: 1 is not str",
    ]
