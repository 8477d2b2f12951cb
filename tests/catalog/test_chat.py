"""`aimodels chat DEPLOYMENT PROMPT`: a chat completion on a ModelDeployment (namespace gateway,
key from listAccessInfo) or a FoundryDeployment (account endpoint, key from listKeys), the
error mapping of seed 002 (401 exit 4, 404 and others exit 5, 429 retried), and keys never
printed or logged."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from read_harness import Azure, new_azure, run, write_stack

from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread
from aimodels.errors import EXIT_AUTH, EXIT_REMOTE, AuthError, RemoteError
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.service.chat import ChatAnswer, ChatTarget, complete
from aimodels.service.deployments import DeploymentRow
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig
from aimodels.transport.credentials import StaticTokenSource

CANARY = "canary-key-0123456789abcdef-do-not-print"


def test_chat_with_a_model_deployment(azure: Azure, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
    azure.model_deployment("phi-chat")
    key = azure.access_keys("prod")["primaryKey"]
    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    result = run(azure, write_stack(tmp_path, azure), "chat", "phi-chat", "hello there")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "[emulated phi-chat] You said: hello there\n"
    usage = result.stderr.strip()
    assert usage.startswith("ModelDeployment/phi-chat (microsoft/Phi-4-mini-instruct): "
                            "2 prompt + 6 completion = 8 tokens, ")
    assert usage.endswith(" ms, finish_reason stop")
    assert "listAccessInfo" in caplog.text and "/chat/completions" in caplog.text
    for text in (result.output, caplog.text):
        assert key not in text and key[:8] not in text


def test_chat_with_a_foundry_deployment_and_max_tokens(azure: Azure, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    azure.foundry_deployment("gpt-chat")
    keys = azure.account_keys()
    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    result = run(azure, write_stack(tmp_path, azure), "chat", "gpt-chat",
                 "one two three four", "--max-tokens", "3", "-o", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["content"], answer["finishReason"], answer["kind"]) == \
        ("[emulated gpt-4o] You", "length", FOUNDRY_DEPLOYMENT)
    assert answer["usage"] == {"promptTokens": 4, "completionTokens": 3, "totalTokens": 7}
    assert answer["latencyMs"] >= 0
    assert "api-version=2024-10-21" in caplog.text
    for secret in keys.values():
        assert secret not in result.output and secret not in caplog.text


def test_an_unknown_deployment_exits_1_and_points_at_the_list(azure: Azure,
                                                              tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "chat", "nope", "hi")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no deployment named nope" in result.stderr
    assert "see `aimodels deployments list`" in result.stderr


def test_an_ambiguous_name_is_a_usage_error_and_a_qualifier_settles_it(
        azure: Azure, tmp_path: Path) -> None:
    azure.model_deployment("chat", "dev")
    azure.foundry_deployment("chat")
    folder = write_stack(tmp_path, azure)
    assert run(azure, folder, "chat", "chat", "hi").exit_code == 64
    foundry = run(azure, folder, "chat", "acct/chat", "hi")
    assert (foundry.exit_code, foundry.stdout) == (0, "[emulated gpt-4o] You said: hi\n")
    gateway = run(azure, folder, "chat", "ModelDeployment/chat", "hi")
    assert gateway.stdout == "[emulated chat] You said: hi\n"


def test_a_deployment_still_provisioning_answers_404_exit_5(tmp_path: Path) -> None:
    with start_in_thread(EmulatorConfig(lro_seconds=600)) as slow:
        for azure in new_azure(slow):
            azure.model_deployment("warming", wait=False)
            result = run(azure, write_stack(tmp_path, azure), "chat", "warming", "hi")
    assert result.exit_code == EXIT_REMOTE
    assert "no deployment named warming answers at aim/prod (provisioningState: Creating); " \
           "see `aimodels deployments list`" in result.stderr


def test_a_bad_max_tokens_is_a_usage_error(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "chat", "x", "hi", "--max-tokens", "0")
    assert result.exit_code == 64


# The inference error mapping, over a fake gateway (httpx.MockTransport): the emulator always
# accepts the keys it hands out, so a refused key or a 500 is staged here.

def _row(kind: str = MODEL_DEPLOYMENT) -> DeploymentRow:
    return DeploymentRow(name="phi", kind=kind, model="microsoft/Phi-4", sku="X",
                         state="Succeeded", endpoint="", resource_id="/x", ai_manager="aim",
                         namespace="prod", account="acct")


def _complete(handler: Callable[[httpx.Request], httpx.Response],
              kind: str = MODEL_DEPLOYMENT) -> tuple[ChatAnswer, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def go() -> ChatAnswer:
        config = ClientConfig(target="local", endpoint="http://gateway.test")
        async with AzureClient(config, StaticTokenSource(), sleep=sleep,
                               transport=httpx.MockTransport(handler)) as client:
            header = {"Authorization": f"Bearer {CANARY}"} if kind == MODEL_DEPLOYMENT \
                else {"api-key": CANARY}
            target = ChatTarget(_row(kind), "http://gateway.test/v1/chat/completions", header,
                                model="phi", add_api_version=kind != MODEL_DEPLOYMENT)
            return await complete(client, target, "hi", 5)

    return asyncio.run(go()), slept


def _completion(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    assert body == {"messages": [{"role": "user", "content": "hi"}], "model": "phi",
                    "max_tokens": 5}
    assert request.headers["authorization"] == f"Bearer {CANARY}"
    return httpx.Response(200, json={
        "model": "phi", "choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


def test_a_refused_key_is_an_auth_error_without_the_key() -> None:
    with pytest.raises(AuthError) as raised:
        _complete(lambda r: httpx.Response(401, json={"error": {"code": "401", "message":
                                                                "Access denied"}}))
    assert raised.value.exit_code == EXIT_AUTH
    assert "ModelDeployment/phi refused the key from listAccessInfo" in raised.value.message
    assert "rotated" in raised.value.hint
    assert CANARY not in f"{raised.value.message} {raised.value.hint}"


def test_a_404_names_the_deployment_and_the_list() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(404, json={"error": {"code": "DeploymentNotFound",
                                                                "message": "gone"}}),
                  FOUNDRY_DEPLOYMENT)
    assert raised.value.exit_code == EXIT_REMOTE and raised.value.status == 404
    assert raised.value.message.startswith("no deployment named phi answers at acct")


def test_other_errors_exit_5_with_the_service_message() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(400, json={"error": {"code": "OperationNotSupported",
                                                                "message": "not a chat model"}}))
    assert raised.value.exit_code == EXIT_REMOTE
    assert "ModelDeployment/phi answered with an error" in raised.value.message
    assert "OperationNotSupported: not a chat model" in raised.value.message


def test_a_conflict_from_the_gateway_is_not_a_plan_conflict() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(409, json={"error": {"code": "Busy"}}))
    assert raised.value.exit_code == EXIT_REMOTE


def test_429_is_retried_by_the_transport() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After-Ms": "5"}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or _completion(request)

    answer, slept = _complete(handler)
    assert (answer.content, answer.total_tokens, answer.model) == ("hello", 2, "microsoft/Phi-4")
    assert slept == [0.005]


def test_an_unreachable_gateway_says_so() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RemoteError) as raised:
        _complete(refuse)
    assert "ModelDeployment/phi could not be reached" in raised.value.message


def test_a_body_that_is_not_a_completion_is_a_remote_error() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(200, json={"choices": []}))
    assert raised.value.exit_code == EXIT_REMOTE
    assert raised.value.message.startswith("unexpected response from POST http://gateway.test/")
    assert "first bytes '{\"choices\": []}'" in raised.value.message
