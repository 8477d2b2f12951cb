"""OpenAI-compatible chat completions on namespace gateways, authenticated with the keys of
listAccessInfo."""

# ruff: noqa: F811  (pytest fixtures imported from containerservice_harness are used as arguments)
from __future__ import annotations

import httpx
import pytest
from containerservice_harness import LRO_SECONDS, cs, error_code, served  # noqa: F401

from aimodels.emulator.inference import make_completion

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def access(cs, namespace="prod"):
    return cs.client.post(f"{cs.manager}/namespaces/{namespace}/listAccessInfo").json()


def chat(endpoint, headers, model="phi", **extra):
    body = {"model": model, "messages": MESSAGES, **extra}
    return httpx.post(f"{endpoint}/chat/completions", json=body, headers=headers, timeout=10)


@pytest.mark.parametrize("style", ["bearer", "api-key", "secondary"])
def test_a_succeeded_deployment_answers_with_either_key(cs, style):
    cs.create_deployment("phi")
    info = access(cs)
    headers = {
        "bearer": {"Authorization": f"Bearer {info['primaryKey']}"},
        "api-key": {"api-key": info["primaryKey"]},
        "secondary": {"api-key": info["secondaryKey"]},
    }[style]
    response = chat(info["endpoint"], headers, max_tokens=4)
    assert response.status_code == 200
    assert response.json() == make_completion("phi", MESSAGES, 4)


def test_the_endpoint_is_the_one_in_the_deployment_status(cs):
    cs.create_deployment("phi")
    status = cs.client.get(cs.deployment("phi")).json()["properties"]["status"]
    info = access(cs)
    assert status["endpoint"] == info["endpoint"]
    response = chat(status["endpoint"], {"api-key": info["primaryKey"]})
    assert (
        response.json()["choices"][0]["message"]["content"]
        == "[emulated phi] You said: hello there"
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"api-key": "wrong"}, id="wrong-key"),
        pytest.param({"Authorization": "Basic abc"}, id="not-bearer"),
    ],
)
def test_a_missing_or_wrong_key_is_401(cs, headers):
    cs.create_deployment("phi")
    response = chat(access(cs)["endpoint"], headers)
    assert response.status_code == 401


def test_another_namespaces_key_is_401(cs):
    cs.create_deployment("phi")
    response = chat(access(cs)["endpoint"], {"api-key": access(cs, "dev")["primaryKey"]})
    assert response.status_code == 401


def test_unknown_or_unfinished_deployments_are_404(cs):
    info = access(cs)
    headers = {"api-key": info["primaryKey"]}
    cs.create_deployment("phi", finish=False)
    creating = chat(info["endpoint"], headers)
    unknown = chat(info["endpoint"], headers, model="nope")
    cs.clock.advance(LRO_SECONDS)
    ready = chat(info["endpoint"], headers)
    cs.client.delete(cs.deployment("phi"))
    deleting = chat(info["endpoint"], headers)
    assert (creating.status_code, error_code(creating)) == (404, "DeploymentNotFound")
    assert (unknown.status_code, error_code(unknown)) == (404, "DeploymentNotFound")
    assert ready.status_code == 200
    assert deleting.status_code == 404


def test_a_deployment_keeps_serving_while_it_updates(cs):
    cs.create_deployment("phi")
    cs.client.put(cs.deployment("phi"), json=cs.deployment_body(scale={"manual": {"replicas": 2}}))
    info = access(cs)
    assert chat(info["endpoint"], {"api-key": info["primaryKey"]}).status_code == 200


def test_zero_replicas_is_503(cs):
    cs.create_deployment("phi", scale={"manual": {"replicas": 0}})
    info = access(cs)
    response = chat(info["endpoint"], {"api-key": info["primaryKey"]})
    assert (response.status_code, error_code(response)) == (503, "NoReadyReplicas")


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"messages": []}, id="no-messages"),
        pytest.param({"model": ""}, id="no-model"),
        pytest.param({"max_tokens": 0}, id="zero-max-tokens"),
        pytest.param({"stream": True}, id="stream"),
    ],
)
def test_bad_requests_are_400(cs, extra):
    cs.create_deployment("phi")
    info = access(cs)
    response = chat(info["endpoint"], {"api-key": info["primaryKey"]}, **extra)
    assert (response.status_code, error_code(response)) == (400, "BadRequest")
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_gateway_is_404(cs):
    response = chat(f"{cs.served.url}/inference/nope/prod/v1", {"api-key": "x"})
    assert response.status_code == 404


def test_models_lists_serving_deployments(cs):
    cs.create_deployment("ready")
    cs.create_deployment("creating", finish=False)
    info = access(cs)
    response = httpx.get(f"{info['endpoint']}/models", headers={"api-key": info["primaryKey"]})
    assert [m["id"] for m in response.json()["data"]] == ["ready"]
