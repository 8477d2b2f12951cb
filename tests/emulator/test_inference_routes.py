"""Chat completions on emulated Foundry deployments, called the way OpenAI-compatible clients do
(plain httpx, as an OpenAI-compatible client would): auth, deployment lookup, body validation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.inference import make_completion
from aimodels.emulator.server import RunningEmulator, start_in_thread

SUB = "00000000-0000-0000-0000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers/Microsoft.CognitiveServices"
EASTUS, WESTEUROPE = f"{RG}/accounts/quickstart-foundry", f"{RG}/accounts/alpha-foundry-we"
Q = {"api-version": "2025-09-01"}
DATA_Q = {"api-version": "2024-10-21"}
PLAIN = "/openai/deployments/chat/chat/completions"
HELLO = {"messages": [{"role": "system", "content": "be brief"},
                      {"role": "user", "content": "hello emulator"}], "max_tokens": 50}


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[RunningEmulator]:
    emu = Emulator(EmulatorConfig(lro_seconds=5, seed=7), clock=clock)
    with start_in_thread(emulator=emu) as em:
        yield em


@pytest.fixture
def arm(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"}) as c:
        yield c


@pytest.fixture
def anonymous(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url) as c:
        yield c


def deploy(arm: httpx.Client, clock: Clock, account: str, name: str, model: str, version: str,
           sku: str = "GlobalStandard", finish: bool = True) -> None:
    response = arm.put(f"{account}/deployments/{name}", params=Q, json={
        "sku": {"name": sku, "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": version}}})
    assert response.status_code == 201, response.text
    if finish:
        clock.t += 10


def key(arm: httpx.Client, account: str) -> str:
    return arm.post(f"{account}/listKeys", params=Q).json()["key1"]


def chat(client: httpx.Client, path: str, payload: object = HELLO,
         **headers: str) -> httpx.Response:
    return client.post(path, params=DATA_Q, json=payload, headers=headers)


def test_openai_style_request_on_the_account_endpoint(arm, anonymous, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    endpoint = arm.get(EASTUS, params=Q).json()["properties"]["endpoint"]
    response = anonymous.post(f"{endpoint}openai/deployments/chat/chat/completions", params=DATA_Q,
                              json=HELLO, headers={"api-key": key(arm, EASTUS)})
    assert response.status_code == 200
    body = response.json()
    assert body == make_completion("gpt-4o", HELLO["messages"], 50)
    assert body["choices"][0]["message"]["content"] == "[emulated gpt-4o] You said: hello emulator"
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}


def test_plain_path_with_a_bearer_token(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o-mini", "2024-07-18")
    response = chat(anonymous, PLAIN, Authorization="Bearer aad")
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"].startswith("[emulated gpt-4o-mini]")


def test_max_tokens_and_max_completion_tokens_are_respected(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    for field in ("max_tokens", "max_completion_tokens"):
        payload = {"messages": [{"role": "user", "content": "one two three"}], field: 2}
        body = chat(anonymous, "/openai/deployments/chat/chat/completions", payload,
                    Authorization="Bearer t").json()
        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 2


def test_same_deployment_name_in_two_accounts(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    deploy(arm, clock, WESTEUROPE, "chat", "gpt-4.1-mini", "2025-04-14")
    plain = "/openai/deployments/chat/chat/completions"

    def said(path: str, **headers: str) -> str:
        response = chat(anonymous, path, **headers)
        assert response.status_code == 200, response.text
        return response.json()["choices"][0]["message"]["content"]

    assert said(plain, **{"api-key": key(arm, EASTUS)}).startswith("[emulated gpt-4o]")
    assert said(plain, **{"api-key": key(arm, WESTEUROPE)}).startswith("[emulated gpt-4.1-mini]")
    assert said("/accounts/alpha-foundry-we" + plain, Authorization="Bearer t").startswith(
        "[emulated gpt-4.1-mini]")
    ambiguous = chat(anonymous, plain, Authorization="Bearer t")
    assert ambiguous.status_code == 400
    assert "several accounts" in ambiguous.json()["error"]["message"]


@pytest.mark.parametrize("headers", [{}, {"api-key": "0" * 32}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_credentials_are_401(anonymous, arm, clock, headers):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    response = chat(anonymous, "/openai/deployments/chat/chat/completions", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied")


def test_another_accounts_key_is_401_on_the_account_path(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    response = chat(anonymous, "/accounts/quickstart-foundry" + PLAIN,
                    **{"api-key": key(arm, WESTEUROPE)})
    assert response.status_code == 401


def test_unknown_or_unfinished_deployments_are_404(anonymous, arm, clock):
    path = "/openai/deployments/chat/chat/completions"
    unknown = chat(anonymous, path, Authorization="Bearer t")
    assert unknown.json()["error"]["code"] == "DeploymentNotFound"
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20", finish=False)
    creating = chat(anonymous, path, Authorization="Bearer t")
    assert creating.status_code == 404 and creating.json()["error"]["code"] == "DeploymentNotFound"
    clock.t += 10
    assert chat(anonymous, path, Authorization="Bearer t").status_code == 200


@pytest.mark.parametrize(("payload", "param"), [
    ({"messages": []}, "messages"),
    ({"prompt": "hi"}, "messages"),
    ({"messages": ["hi"]}, "messages"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": "5"}, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "stream": True}, "stream"),
    ([1, 2], None),
])
def test_malformed_bodies_are_400(anonymous, arm, clock, payload, param):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    response = chat(anonymous, "/openai/deployments/chat/chat/completions", payload,
                    Authorization="Bearer t")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_invalid_json_is_400(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    response = anonymous.post("/openai/deployments/chat/chat/completions", params=DATA_Q,
                              content=b"{oops", headers={"Authorization": "Bearer t"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"


def test_embedding_deployments_do_not_chat(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "emb", "text-embedding-3-small", "1", sku="Standard")
    response = chat(anonymous, "/openai/deployments/emb/chat/completions", Authorization="Bearer t")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "OperationNotSupported"


def test_api_version_is_required_on_the_data_plane(anonymous, arm, clock):
    deploy(arm, clock, EASTUS, "chat", "gpt-4o", "2024-11-20")
    response = anonymous.post("/openai/deployments/chat/chat/completions", json=HELLO,
                              headers={"Authorization": "Bearer t"})
    assert response.status_code == 404


def test_keys_are_deterministic_under_the_seed():
    def keys(seed: int) -> dict:
        with start_in_thread(EmulatorConfig(seed=seed)) as em, \
                httpx.Client(base_url=em.url, headers={"Authorization": "Bearer t"}) as c:
            return c.post(f"{EASTUS}/listKeys", params=Q).json()

    assert keys(3) == keys(3)
    assert keys(3)["key1"] != keys(4)["key1"]
