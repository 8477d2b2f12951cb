"""Microsoft.ContainerService parents over HTTP: api-version, AI managers and namespaces (seeded),
ARM 404 codes for missing scopes, seed_parents, and listAccessInfo keys."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import httpx
import pytest
from containerservice_harness import API_VERSION, cs, error_code, served  # noqa: F401

from aimodels.emulator.app import Emulator, create_app
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.containerservice import seed_parents
from aimodels.emulator.containerservice.parents import access_keys

QUICKSTART = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-quickstart/"
    "providers/Microsoft.ContainerService/aiManagers/quickstart"
)


def test_api_version_is_required(cs):
    url = cs.served.url + cs.manager
    missing = httpx.get(url, headers={"Authorization": "Bearer t"})
    wrong = httpx.get(
        url, params={"api-version": "2025-01-01"}, headers={"Authorization": "Bearer t"}
    )
    assert (missing.status_code, error_code(missing)) == (400, "MissingApiVersionParameter")
    assert (wrong.status_code, error_code(wrong)) == (400, "InvalidApiVersionParameter")
    assert API_VERSION in wrong.json()["error"]["message"]
    assert "Retry-After" not in missing.headers


def test_a_bearer_token_is_required(cs):
    response = httpx.get(cs.served.url + cs.manager, params={"api-version": API_VERSION})
    assert response.status_code == 401


def test_fixture_seeds_the_quickstart_ai_manager_with_four_namespaces(cs):
    manager = cs.client.get(QUICKSTART)
    namespaces = cs.client.get(QUICKSTART + "/namespaces")
    assert manager.status_code == 200
    assert manager.json()["location"] == "eastus"
    assert manager.json()["properties"]["provisioningState"] == "Succeeded"
    assert manager.headers["ETag"] == manager.json()["eTag"]
    assert sorted(n["name"] for n in namespaces.json()["value"]) == [
        "default",
        "dev",
        "prod",
        "staging",
    ]


def test_get_and_list_ai_managers(cs):
    one = cs.client.get(cs.manager).json()
    by_group = cs.client.get(f"{cs.group}/aiManagers").json()
    by_sub = cs.client.get(
        f"/subscriptions/{cs.sub}/providers/Microsoft.ContainerService/aiManagers"
    ).json()
    assert one["id"] == cs.manager
    assert one["type"] == "Microsoft.ContainerService/aiManagers"
    assert [m["id"] for m in by_group["value"]] == [cs.manager]
    assert [m["id"] for m in by_sub["value"]] == [cs.manager]


def test_get_a_namespace_is_case_insensitive_and_keeps_casing(cs):
    response = cs.client.get(f"{cs.manager}/namespaces/PROD")
    assert response.status_code == 200
    assert response.json()["name"] == "prod"
    assert response.json()["type"] == "Microsoft.ContainerService/aiManagers/namespaces"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        pytest.param(
            "/subscriptions/{other}/resourceGroups/{rg}/providers/Microsoft.ContainerService/aiManagers/aim",
            "SubscriptionNotFound",
            id="subscription",
        ),
        pytest.param(
            "/subscriptions/{sub}/resourceGroups/nope/providers/Microsoft.ContainerService/aiManagers/aim",
            "ResourceGroupNotFound",
            id="resource-group",
        ),
        pytest.param(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/aiManagers/nope",
            "ResourceNotFound",
            id="ai-manager",
        ),
        pytest.param(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/aiManagers/nope/namespaces",
            "ParentResourceNotFound",
            id="namespaces-of-missing-manager",
        ),
        pytest.param(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/aiManagers/aim/namespaces/nope",
            "ResourceNotFound",
            id="namespace",
        ),
        pytest.param(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/aiManagers/aim/namespaces/nope/modelDeployments",
            "ParentResourceNotFound",
            id="deployments-of-missing-namespace",
        ),
    ],
)
def test_missing_scopes_are_arm_404s(cs, path, code):
    url = path.format(sub=cs.sub, rg=cs.rg, other="99999999-0000-0000-0000-000000000000")
    response = cs.client.get(url)
    assert (response.status_code, error_code(response)) == (404, code)


def test_seed_parents_is_idempotent_and_keeps_what_exists(cs):
    before = cs.client.get(cs.manager).json()
    manager_id = seed_parents(cs.emu, cs.sub, cs.rg, "westus3", "aim", namespaces=("prod", "extra"))
    after = cs.client.get(cs.manager).json()
    names = [n["name"] for n in cs.client.get(f"{cs.manager}/namespaces").json()["value"]]
    assert manager_id == cs.manager
    assert after == before
    assert names == ["default", "dev", "extra", "prod", "staging"]


def test_list_access_info_gives_the_gateway_and_two_keys(cs):
    response = cs.client.post(f"{cs.manager}/namespaces/prod/listAccessInfo")
    body = response.json()
    assert response.status_code == 200
    assert body["endpoint"] == f"{cs.served.url}/inference/aim/prod/v1"
    assert len(body["primaryKey"]) == 32 and body["primaryKey"] != body["secondaryKey"]
    assert body["lastRotatedAt"].endswith("Z")
    again = cs.client.post(f"{cs.manager}/namespaces/prod/listAccessInfo").json()
    other = cs.client.post(f"{cs.manager}/namespaces/dev/listAccessInfo").json()
    assert again["primaryKey"] == body["primaryKey"]
    assert other["primaryKey"] != body["primaryKey"]


def test_access_keys_depend_on_the_seed_only():
    def keys(seed: int) -> tuple[str, str]:
        emu = Emulator(EmulatorConfig(seed=seed))
        create_app(emulator=emu)
        namespace = emu.store.list("cs.namespaces")[0]
        return access_keys(emu, namespace)

    assert keys(1) == keys(1)
    assert keys(1) != keys(2)


def test_list_access_info_of_a_missing_namespace_is_404(cs):
    response = cs.client.post(f"{cs.manager}/namespaces/nope/listAccessInfo")
    assert (response.status_code, error_code(response)) == (404, "ResourceNotFound")
