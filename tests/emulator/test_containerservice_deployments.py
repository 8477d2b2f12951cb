"""ModelDeployments over HTTP: the create/replace/delete LROs driven by an injected clock, PATCH,
paging, and every 400/409/412 the service answers."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import pytest
from containerservice_harness import (  # noqa: F401
    A100,
    LLAMA_8B,
    LRO_SECONDS,
    cs,
    error_code,
    served,
)

OP_HEADERS = ("Azure-AsyncOperation", "Location", "Retry-After-Ms")


def state(cs, name):
    return cs.client.get(cs.deployment(name)).json()["properties"]["provisioningState"]


def test_put_answers_201_creating_with_absolute_poll_urls(cs):
    response = cs.client.put(cs.deployment("phi"), json=cs.deployment_body())
    body = response.json()
    assert response.status_code == 201
    assert body["properties"]["provisioningState"] == "Creating"
    assert body["type"] == "Microsoft.ContainerService/aiManagers/namespaces/modelDeployments"
    assert response.headers["ETag"] == body["eTag"]
    for header in ("Azure-AsyncOperation", "Location"):
        url = response.headers[header]
        assert url.startswith(
            cs.served.url
            + f"/subscriptions/{cs.sub}/providers/Microsoft.ContainerService/locations/eastus/"
        )
        assert "api-version=2026-08-02-preview" in url
    assert int(response.headers["Retry-After-Ms"]) > 0
    assert "endpoint" not in body["properties"]["status"]


def test_create_progresses_to_succeeded_with_status(cs):
    response = cs.client.put(cs.deployment("phi"), json=cs.deployment_body())
    operation = response.headers["Azure-AsyncOperation"]
    assert cs.follow(operation).json()["status"] == "InProgress"
    cs.clock.advance(LRO_SECONDS / 2)
    assert state(cs, "phi") == "Creating"
    cs.clock.advance(LRO_SECONDS / 2)
    assert cs.follow(operation).json()["status"] == "Succeeded"
    status = cs.client.get(cs.deployment("phi")).json()["properties"]["status"]
    assert status["endpoint"] == f"{cs.served.url}/inference/aim/prod/v1"
    assert (status["engine"], status["maxModelLen"], status["quantization"]) == (
        "vllm",
        131072,
        "fp16",
    )
    assert status["engineVersion"]
    assert (status["desiredReplicas"], status["currentReplicas"]) == (1, 1)


def test_put_on_an_existing_deployment_is_a_full_replace(cs):
    cs.create_deployment(
        "phi",
        performanceMode="Latency",
        overrides={"values": {"maxModelLen": "8192"}},
        scale={"manual": {"replicas": 2}},
    )
    response = cs.client.put(
        cs.deployment("phi"),
        json=cs.deployment_body(scale={"autoscale": {"minReplicas": 1, "maxReplicas": 3}}),
    )
    props = response.json()["properties"]
    assert response.status_code == 200
    assert props["provisioningState"] == "Updating"
    assert "Azure-AsyncOperation" in response.headers
    assert props["performanceMode"] == "Balanced" and "overrides" not in props
    assert props["status"]["currentReplicas"] == 2  # the old replicas serve during the update
    cs.clock.advance(LRO_SECONDS)
    status = cs.client.get(cs.deployment("phi")).json()["properties"]["status"]
    assert state(cs, "phi") == "Succeeded"
    assert (status["maxModelLen"], status["desiredReplicas"], status["currentReplicas"]) == (
        131072,
        1,
        1,
    )


def test_an_omitted_scale_defaults_to_one_manual_replica(cs):
    body = cs.create_deployment("phi")
    assert body["properties"]["scale"] == {"manual": {"replicas": 1}}
    assert body["properties"]["performanceMode"] == "Balanced"


def test_overrides_show_in_status(cs):
    cs.create_deployment(
        "phi", overrides={"values": {"maxModelLen": "8192", "quantization": "awq-int4"}}
    )
    status = cs.client.get(cs.deployment("phi")).json()["properties"]["status"]
    assert (status["maxModelLen"], status["quantization"]) == (8192, "awq-int4")


def test_patch_merges_scale_synchronously_with_a_new_etag(cs):
    created = cs.create_deployment("phi")
    response = cs.client.patch(
        cs.deployment("phi"), json={"properties": {"scale": {"manual": {"replicas": 3}}}}
    )
    props = response.json()["properties"]
    assert response.status_code == 200
    assert response.json()["eTag"] != created["eTag"]
    assert props["provisioningState"] == "Succeeded"
    assert props["scale"] == {"manual": {"replicas": 3}}
    assert (props["status"]["desiredReplicas"], props["status"]["currentReplicas"]) == (3, 3)
    assert props["vmSize"] == A100


def test_patch_cannot_change_immutable_fields(cs):
    cs.create_deployment("phi")
    response = cs.client.patch(
        cs.deployment("phi"), json={"properties": {"vmSize": "Standard_NC40ads_H100_v5"}}
    )
    assert (response.status_code, error_code(response)) == (400, "ImmutableField")


def test_delete_is_an_lro_then_the_deployment_is_gone(cs):
    cs.create_deployment("phi")
    response = cs.client.delete(cs.deployment("phi"))
    assert response.status_code == 202
    assert all(h in response.headers for h in OP_HEADERS)
    deleting = cs.client.get(cs.deployment("phi")).json()["properties"]
    assert deleting["provisioningState"] == "Deleting"
    assert deleting["status"]["currentReplicas"] == 0 and "endpoint" not in deleting["status"]
    assert cs.follow(response.headers["Location"]).status_code == 202
    again = cs.client.delete(cs.deployment("phi"))
    assert again.status_code == 202
    cs.clock.advance(LRO_SECONDS)
    assert cs.follow(response.headers["Location"]).status_code == 204
    gone = cs.client.get(cs.deployment("phi"))
    assert (gone.status_code, error_code(gone)) == (404, "ResourceNotFound")
    assert cs.client.get(f"{cs.manager}/namespaces/prod/modelDeployments").json()["value"] == []
    assert cs.client.delete(cs.deployment("phi")).status_code == 204


def test_a_name_can_be_reused_after_delete(cs):
    cs.create_deployment("phi")
    cs.client.delete(cs.deployment("phi"))
    cs.clock.advance(LRO_SECONDS)
    response = cs.client.put(
        cs.deployment("phi"), json=cs.deployment_body(vm_size="Standard_NC40ads_H100_v5")
    )
    assert response.status_code == 201


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_write_during_an_operation_is_409(cs, method):
    cs.create_deployment("phi", finish=False)
    body = cs.deployment_body() if method == "PUT" else {"properties": {}}
    response = cs.client.request(
        method, cs.deployment("phi"), json=None if method == "DELETE" else body
    )
    assert (response.status_code, error_code(response)) == (409, "Conflict")
    assert "Another operation is in progress" in response.json()["error"]["message"]
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vmSize", "Standard_NC40ads_H100_v5"),
        ("modelResourceId", "phi-4"),
        ("modelSourceResourceId", "source"),
    ],
)
def test_immutable_fields_cannot_change_on_put(cs, field, value):
    cs.client.put(cs.source("source"), json={"properties": {"sourceType": "HuggingFace"}})
    cs.create_deployment("phi")
    replacements = {"phi-4": cs.model_id("microsoft/Phi-4"), "source": cs.source("source")}
    body = cs.deployment_body()
    body["properties"][field] = replacements.get(value, value)
    response = cs.client.put(cs.deployment("phi"), json=body)
    assert (response.status_code, error_code(response)) == (400, "ImmutableField")
    assert f"properties.{field}" in response.json()["error"]["message"]


def test_an_identical_put_is_accepted(cs):
    first = cs.create_deployment("phi")
    response = cs.client.put(cs.deployment("phi"), json=cs.deployment_body())
    assert response.status_code == 200
    assert response.json()["eTag"] != first["eTag"]


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param({}, id="neither"),
        pytest.param({"manual": {"replicas": 1}, "autoscale": {"minReplicas": 1}}, id="both"),
        pytest.param({"autoscale": {"minReplicas": 3, "maxReplicas": 2}}, id="max-below-min"),
    ],
)
def test_invalid_scaling_profiles(cs, scale):
    response = cs.client.put(cs.deployment("phi"), json=cs.deployment_body(scale=scale))
    assert (response.status_code, error_code(response)) == (400, "InvalidScalingProfile")


@pytest.mark.parametrize(
    ("model_id", "code"),
    [
        pytest.param("not-an-id", "InvalidModelResourceId", id="malformed"),
        pytest.param(
            "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/aiModels/0000000000000000",
            "ModelNotFound",
            id="not-in-catalog",
        ),
    ],
)
def test_the_model_must_be_a_catalog_ai_model(cs, model_id, code):
    body = cs.deployment_body()
    body["properties"]["modelResourceId"] = model_id
    response = cs.client.put(cs.deployment("phi"), json=body)
    assert (response.status_code, error_code(response)) == (400, code)


def test_a_resource_group_scoped_model_id_is_accepted(cs):
    body = cs.deployment_body()
    body["properties"]["modelResourceId"] = f"{cs.group}/aiModels/9806f0c862fdd920"
    assert cs.client.put(cs.deployment("phi"), json=body).status_code == 201


def test_the_model_source_must_exist(cs):
    response = cs.client.put(
        cs.deployment("phi"), json=cs.deployment_body(modelSourceResourceId=cs.source("nope"))
    )
    assert (response.status_code, error_code(response)) == (400, "ModelSourceNotFound")


@pytest.mark.parametrize(
    ("vm_size", "needle"),
    [
        pytest.param("Standard_D4s_v5", "not a GPU size", id="unknown"),
        pytest.param(
            "Standard_ND96asr_v4", "not available in location 'eastus'", id="not-in-region"
        ),
    ],
)
def test_the_vm_size_must_be_offered(cs, vm_size, needle):
    response = cs.client.put(cs.deployment("phi"), json=cs.deployment_body(vm_size=vm_size))
    assert (response.status_code, error_code(response)) == (400, "SkuNotAvailable")
    assert needle in response.json()["error"]["message"]


def test_gpu_quota_is_enforced_across_deployments(cs):
    cs.create_deployment("first", scale={"manual": {"replicas": 6}})
    response = cs.client.put(
        cs.deployment("second"),
        json=cs.deployment_body(scale={"autoscale": {"minReplicas": 1, "maxReplicas": 3}}),
    )
    assert (response.status_code, error_code(response)) == (400, "InsufficientQuota")
    assert "only 2 of the subscription's 8" in response.json()["error"]["message"]
    none_left = cs.client.put(
        cs.deployment("h100"), json=cs.deployment_body(vm_size="Standard_ND96isr_H100_v5")
    )
    assert error_code(none_left) == "InsufficientQuota"  # eastus grants no ND H100 GPUs


def test_quota_is_released_once_a_delete_finishes(cs):
    cs.create_deployment("first", scale={"manual": {"replicas": 8}})
    cs.client.delete(cs.deployment("first"))
    during = cs.client.put(cs.deployment("second"), json=cs.deployment_body())
    cs.clock.advance(LRO_SECONDS)
    after = cs.client.put(cs.deployment("second"), json=cs.deployment_body())
    assert error_code(during) == "InsufficientQuota"
    assert after.status_code == 201


def test_a_restricted_model_needs_a_model_source(cs):
    response = cs.client.put(cs.deployment("llama"), json=cs.deployment_body(model=LLAMA_8B))
    assert (response.status_code, error_code(response)) == (400, "ModelSourceRequired")


def test_a_restricted_model_without_a_credential_fails_while_reconciling(cs):
    cs.client.put(cs.source("public"), json={"properties": {"sourceType": "HuggingFace"}})
    response = cs.client.put(
        cs.deployment("llama"),
        json=cs.deployment_body(model=LLAMA_8B, modelSourceResourceId=cs.source("public")),
    )
    assert response.status_code == 201
    cs.clock.advance(LRO_SECONDS)
    operation = cs.follow(response.headers["Azure-AsyncOperation"]).json()
    props = cs.client.get(cs.deployment("llama")).json()["properties"]
    assert (operation["status"], operation["error"]["code"]) == ("Failed", "ModelAccessDenied")
    assert props["provisioningState"] == "Failed"
    assert props["status"]["provisioningError"]["code"] == "ModelAccessDenied"
    assert "endpoint" not in props["status"]


@pytest.mark.parametrize(("token", "state"), [
    pytest.param("hf_noaccess_not_granted", "Failed", id="token-without-access"),
    pytest.param("hf_granted", "Succeeded", id="token-with-access"),
])
def test_a_restricted_model_through_a_token_without_access_fails_while_reconciling(
        cs, token, state):
    credential = {"inline": {"type": "Inline", "value": token}}
    cs.client.put(cs.source("org"), json={"properties": {"sourceType": "HuggingFace",
                                                         "credential": credential}})
    # a PATCH that leaves the credential alone keeps what we know of it
    cs.client.patch(cs.source("org"), json={"properties": {"description": "the org"}})
    response = cs.client.put(
        cs.deployment("llama"),
        json=cs.deployment_body(model=LLAMA_8B, modelSourceResourceId=cs.source("org")),
    )
    cs.clock.advance(LRO_SECONDS)
    props = cs.client.get(cs.deployment("llama")).json()["properties"]
    assert response.status_code == 201 and props["provisioningState"] == state
    if state == "Failed":
        error = props["status"]["provisioningError"]
        assert error["code"] == "ModelAccessDenied" and "was refused (403)" in error["message"]
        assert token not in str(props)


def test_a_restricted_model_with_a_credential_succeeds(cs):
    cs.client.put(
        cs.source("hf"),
        json={
            "properties": {"sourceType": "HuggingFace", "credential": {"inline": {"value": "hf_x"}}}
        },
    )
    cs.create_deployment("llama", model=LLAMA_8B, modelSourceResourceId=cs.source("hf"))
    assert state(cs, "llama") == "Succeeded"


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        pytest.param({"vmSize": None}, "vmSize", id="no-vm-size"),
        pytest.param({"performanceMode": "Fastest"}, "performanceMode", id="unknown-mode"),
        pytest.param(
            {"scale": {"manual": {"replicas": -1}}}, "scale.manual.replicas", id="negative-replicas"
        ),
        pytest.param(
            {"overrides": {"values": {"maxModelLen": "999999999"}}},
            "maxModelLen",
            id="context-too-long",
        ),
        pytest.param(
            {"overrides": {"values": {"quantization": "fp8"}}}, "quantization", id="fp8-on-a100"
        ),
    ],
)
def test_invalid_properties_are_400_invalid_parameter(cs, properties, field):
    body = cs.deployment_body(**properties)
    body["properties"] = {k: v for k, v in body["properties"].items() if v is not None}
    response = cs.client.put(cs.deployment("phi"), json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidParameter")
    assert field in response.json()["error"]["message"]


def test_invalid_deployment_names_are_rejected(cs):
    response = cs.client.put(cs.deployment("-phi"), json=cs.deployment_body())
    assert (response.status_code, error_code(response)) == (400, "InvalidResourceName")


def test_preconditions(cs):
    etag = cs.create_deployment("phi")["eTag"]
    stale = cs.client.put(
        cs.deployment("phi"), json=cs.deployment_body(), headers={"If-Match": '"stale"'}
    )
    exists = cs.client.put(
        cs.deployment("phi"), json=cs.deployment_body(), headers={"If-None-Match": "*"}
    )
    missing = cs.client.put(
        cs.deployment("other"), json=cs.deployment_body(), headers={"If-Match": "*"}
    )
    delete_stale = cs.client.delete(cs.deployment("phi"), headers={"If-Match": '"stale"'})
    matching = cs.client.put(
        cs.deployment("phi"), json=cs.deployment_body(), headers={"If-Match": etag}
    )
    for response in (stale, exists, missing, delete_stale):
        assert (response.status_code, error_code(response)) == (412, "PreconditionFailed")
    assert matching.status_code == 200
    created = cs.client.put(
        cs.deployment("new"), json=cs.deployment_body(), headers={"If-None-Match": "*"}
    )
    assert created.status_code == 201


def test_the_etag_changes_on_every_write(cs):
    etags = [cs.create_deployment("phi")["eTag"]]
    etags.append(
        cs.client.patch(
            cs.deployment("phi"), json={"properties": {"performanceMode": "Throughput"}}
        ).json()["eTag"]
    )
    etags.append(cs.client.put(cs.deployment("phi"), json=cs.deployment_body()).json()["eTag"])
    cs.clock.advance(LRO_SECONDS)
    assert cs.client.get(cs.deployment("phi")).json()["eTag"] == etags[-1]
    assert len(set(etags)) == 3


def test_list_pages_with_next_link(cs):
    names = [f"d{i:02d}" for i in range(51)]
    for name in names:
        cs.create_deployment(name, finish=False, scale={"manual": {"replicas": 0}})
    first = cs.client.get(f"{cs.manager}/namespaces/prod/modelDeployments").json()
    assert len(first["value"]) == 50
    assert first["nextLink"].startswith(cs.served.url)
    second = cs.follow(first["nextLink"]).json()
    assert [d["name"] for d in first["value"] + second["value"]] == names
    assert "nextLink" not in second


def test_list_honours_top(cs):
    for name in ("a", "b", "c"):
        cs.create_deployment(name, finish=False, scale={"manual": {"replicas": 0}})
    first = cs.client.get(
        f"{cs.manager}/namespaces/prod/modelDeployments", params={"$top": "2"}
    ).json()
    second = cs.follow(first["nextLink"]).json()
    assert [d["name"] for d in first["value"]] == ["a", "b"]
    assert [d["name"] for d in second["value"]] == ["c"]
    assert "nextLink" not in second
    assert cs.client.get(f"{cs.manager}/namespaces/dev/modelDeployments").json() == {"value": []}
