"""`aimodels chat DEPLOYMENT PROMPT`: a chat completion on a ModelDeployment (namespace gateway,
key from listAccessInfo) or a FoundryDeployment (account endpoint, a key from listKeys or an
Entra ID token), base or custom; --api-version; the error mapping of docs/commands.md
(401/403 exit 4,
404 exit 5 naming the deployment, 429 retried with Retry-After then exit 5 with the wait, 5xx
retried then exit 5), and keys never printed or logged."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from read_harness import ACCOUNT, KEYLESS, Azure, new_azure, run, write_stack

from aimodels.emulator.cognitiveservices.common import account_keys
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread
from aimodels.errors import EXIT_AUTH, EXIT_REMOTE, EXIT_USAGE, AuthError, RemoteError
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.service.chat import (
    ENTRA_TOKEN,
    ChatAnswer,
    ChatOptions,
    ChatTarget,
    chat_target,
    complete,
)
from aimodels.service.deployments import DeploymentRow
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig
from aimodels.transport.credentials import AzureIdentityTokenSource, StaticTokenSource

CANARY = "canary-key-0123456789abcdef-do-not-print"
COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


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
    assert usage.endswith(" ms, finish_reason stop, auth: key from listAccessInfo")
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
    assert (answer["content"], answer["finishReason"], answer["kind"], answer["auth"]) == \
        ("[emulated gpt-4o] You", "length", FOUNDRY_DEPLOYMENT, "key from listKeys")
    assert answer["usage"] == {"promptTokens": 4, "completionTokens": 3, "totalTokens": 7}
    assert answer["latencyMs"] >= 0
    assert "api-version=2024-10-21" in caplog.text
    for secret in keys.values():
        assert secret not in result.output and secret not in caplog.text


def test_entra_id_on_a_foundry_deployment_lists_no_keys(azure: Azure, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    # A name of its own: with a bearer token, the emulator looks the deployment up in every
    # account called acct, one per test's subscription (Azure's subdomains are unique).
    azure.foundry_deployment("gpt-entra")
    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    result = run(azure, write_stack(tmp_path, azure), "chat", "gpt-entra", "hi", "--auth",
                 "entra")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "[emulated gpt-4o] You said: hi\n"
    assert result.stderr.strip().endswith("auth: Entra ID token")
    assert "listKeys" not in caplog.text


def test_auto_uses_entra_id_on_an_account_without_keys(azure: Azure, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    azure.foundry_deployment("locked", account=KEYLESS)
    folder = write_stack(tmp_path, azure, account=KEYLESS)
    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    result = run(azure, folder, "chat", "locked", "hi")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "[emulated gpt-4o] You said: hi\n"
    assert "using an Entra ID token: account keyless disables keys (disableLocalAuth)" in \
        result.stderr
    assert "listKeys" not in caplog.text
    refused = run(azure, folder, "chat", "locked", "hi", "--auth", "key")
    assert refused.exit_code == EXIT_AUTH
    assert "account keyless disables keys (disableLocalAuth)" in refused.stderr
    assert "--auth entra" in refused.stderr


def test_a_key_sent_to_an_account_without_keys_is_403_authentication_type_disabled(
        azure: Azure) -> None:
    azure.foundry_deployment("locked", account=KEYLESS)
    account = next(a for a in azure.running.emulator.store.list("cog.accounts")
                   if a["id"].lower() == azure.cog(f"accounts/{KEYLESS}").lower())
    key = account_keys(azure.running.emulator, account)["key1"]
    answer = azure.http.post(f"/accounts/{KEYLESS}/openai/deployments/locked/chat/completions",
                             params={"api-version": "2024-10-21"}, headers={"api-key": key},
                             json={"messages": [{"role": "user", "content": "hi"}]})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "AuthenticationTypeDisabled"
    listed = azure.http.post(azure.cog(f"accounts/{KEYLESS}/listKeys"),
                             params={"api-version": "2025-09-01"})
    assert listed.status_code == 400 and "disableLocalAuth" in listed.text


def test_api_version_is_sent_and_an_unknown_one_is_named(azure: Azure, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    azure.foundry_deployment("gpt-chat")
    folder = write_stack(tmp_path, azure)
    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    ok = run(azure, folder, "chat", "gpt-chat", "hi", "--api-version", "2025-04-01-preview")
    assert ok.exit_code == 0, ok.stderr
    assert "chat/completions?api-version=2025-04-01-preview" in caplog.text
    old = run(azure, folder, "chat", "gpt-chat", "hi", "--api-version", "2020-01-01")
    assert old.exit_code == EXIT_REMOTE
    assert "with api-version 2020-01-01: 404: Resource not found" in old.stderr
    assert "check --api-version" in old.stderr
    bad = run(azure, folder, "chat", "gpt-chat", "hi", "--api-version", "latest")
    assert bad.exit_code == EXIT_USAGE and "'latest' is not an api-version" in bad.stderr


@pytest.mark.parametrize("flags", [
    pytest.param(("--auth", "entra"), id="entra"),
    pytest.param(("--api-version", "2024-10-21"), id="api-version"),
])
def test_gateway_flags_a_model_deployment_cannot_honour_are_usage_errors(
        azure: Azure, tmp_path: Path, flags: tuple[str, str]) -> None:
    azure.model_deployment("phi-chat")
    result = run(azure, write_stack(tmp_path, azure), "chat", "phi-chat", "hi", *flags)
    assert result.exit_code == EXIT_USAGE
    assert "ModelDeployment/phi-chat answers on" in result.stderr


def test_chat_on_custom_deployments_of_both_kinds(azure: Azure, tmp_path: Path) -> None:
    azure.as_custom(azure.model_deployment("llama-md"), "my-llama")
    azure.as_custom(azure.foundry_deployment("llama-fd"), "my-llama", "2")
    folder = write_stack(tmp_path, azure)
    gateway = run(azure, folder, "chat", "llama-md", "hi")
    assert (gateway.exit_code, gateway.stdout) == (0, "[emulated llama-md] You said: hi\n")
    assert gateway.stderr.startswith("ModelDeployment/llama-md (my-llama): ")
    foundry = run(azure, folder, "chat", "llama-fd", "hi", "-o", "json")
    assert foundry.exit_code == 0, foundry.stderr
    answer = json.loads(foundry.stdout)
    assert (answer["content"], answer["model"]) == ("[emulated my-llama] You said: hi",
                                                    "my-llama")


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
    foundry = run(azure, folder, "chat", f"{ACCOUNT}/chat", "hi")
    assert (foundry.exit_code, foundry.stdout) == (0, "[emulated gpt-4o] You said: hi\n")
    gateway = run(azure, folder, "chat", "ModelDeployment/chat", "hi")
    assert gateway.stdout == "[emulated chat] You said: hi\n"


def test_a_deployment_still_provisioning_answers_404_exit_5(tmp_path: Path) -> None:
    with start_in_thread(EmulatorConfig(lro_seconds=600)) as slow:
        for azure in new_azure(slow):
            azure.model_deployment("warming", wait=False)
            result = run(azure, write_stack(tmp_path, azure), "chat", "warming", "hi")
    assert result.exit_code == EXIT_REMOTE
    assert "ModelDeployment/warming: deployment not found at http://" in result.stderr
    assert "(check the name; list with `aimodels deployments list`)" in result.stderr
    assert "Its provisioningState is Creating: it serves once provisioning succeeds." in \
        result.stderr


def test_a_bad_max_tokens_is_a_usage_error(azure: Azure, tmp_path: Path) -> None:
    result = run(azure, write_stack(tmp_path, azure), "chat", "x", "hi", "--max-tokens", "0")
    assert result.exit_code == 64


# The inference error mapping, over a fake endpoint (httpx.MockTransport): the emulator always
# accepts the keys it hands out, so a refused key, a throttle or a 500 is staged here.

ENDPOINT = "http://gateway.test/openai/deployments/phi/chat/completions"


def _row(kind: str = MODEL_DEPLOYMENT) -> DeploymentRow:
    return DeploymentRow(name="phi", kind=kind, model="microsoft/Phi-4", sku="X",
                         state="Succeeded", endpoint="", resource_id="/x", ai_manager="aim",
                         namespace="prod", account="acct")


def _complete(handler: Callable[[httpx.Request], httpx.Response], kind: str = MODEL_DEPLOYMENT,
              tokens: Any = None) -> tuple[ChatAnswer, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # time passes as it would (the retry budget)
        slept.append(seconds)

    async def go() -> ChatAnswer:
        config = ClientConfig(target="local", endpoint="http://gateway.test")
        async with AzureClient(config, tokens or StaticTokenSource(), sleep=sleep,
                               clock=lambda: sum(slept),
                               transport=httpx.MockTransport(handler)) as client:
            if tokens is not None:
                target = ChatTarget(_row(kind), ENDPOINT + "?api-version=2024-10-21", {},
                                    auth=ENTRA_TOKEN)
            elif kind == MODEL_DEPLOYMENT:
                target = ChatTarget(_row(kind), "http://gateway.test/v1/chat/completions",
                                    {"Authorization": f"Bearer {CANARY}"}, model="phi")
            else:
                target = ChatTarget(_row(kind), ENDPOINT + "?api-version=2024-10-21",
                                    {"api-key": CANARY}, auth="key from listKeys")
            return await complete(client, target, "hi", 5)

    return asyncio.run(go()), slept


def _completion(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["max_tokens"] == 5
    return httpx.Response(200, json={
        "model": "phi", "choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


class _FakeCredential:
    """azure-identity's credential protocol: ``get_token(scope)`` with .token/.expires_on."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, scope: str) -> Any:
        self.scopes.append(scope)
        return type("Token", (), {"token": "entra-token-for-test", "expires_on": 4102444800})()


def test_entra_id_sends_a_cognitive_services_token_from_the_one_token_source() -> None:
    credential = _FakeCredential()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _completion(request)

    answer, _ = _complete(handler, FOUNDRY_DEPLOYMENT,
                          AzureIdentityTokenSource(lambda: credential))
    assert (answer.content, answer.auth) == ("hello", ENTRA_TOKEN)
    assert credential.scopes == [COGNITIVE_SCOPE]
    [request] = seen
    assert request.headers["authorization"] == "Bearer entra-token-for-test"
    assert "api-key" not in request.headers
    assert request.url.params["api-version"] == "2024-10-21"


def test_a_refused_key_is_an_auth_error_without_the_key() -> None:
    with pytest.raises(AuthError) as raised:
        _complete(lambda r: httpx.Response(401, json={"error": {"code": "401", "message":
                                                                "Access denied"}}))
    assert raised.value.exit_code == EXIT_AUTH
    assert raised.value.message == ("ModelDeployment/phi: authentication failed at "
                                    "http://gateway.test/v1/chat/completions: 401: Access "
                                    "denied (sent: key from listAccessInfo)")
    assert "rotated" in raised.value.hint
    assert CANARY not in f"{raised.value.message} {raised.value.hint}"


def test_a_token_without_a_data_plane_role_is_exit_4_naming_the_role() -> None:
    denied = {"error": {"code": "PermissionDenied", "message": "The principal lacks the "
                        "required data action"}}
    with pytest.raises(AuthError) as raised:
        _complete(lambda r: httpx.Response(401, json=denied), FOUNDRY_DEPLOYMENT,
                  StaticTokenSource())
    assert "authentication failed at http://gateway.test/openai/deployments/phi/chat/" \
           "completions: PermissionDenied" in raised.value.message
    assert "(sent: Entra ID token)" in raised.value.message
    assert "Cognitive Services OpenAI User" in raised.value.hint


def test_a_403_is_exit_4_and_keys_disabled_says_to_use_entra() -> None:
    disabled = {"error": {"code": "AuthenticationTypeDisabled", "message": "Key based "
                          "authentication is disabled for this resource."}}
    with pytest.raises(AuthError) as raised:
        _complete(lambda r: httpx.Response(403, json=disabled), FOUNDRY_DEPLOYMENT)
    assert raised.value.exit_code == EXIT_AUTH
    assert "--auth entra" in raised.value.hint


def test_a_404_names_the_deployment_the_endpoint_and_the_list() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(404, json={"error": {"code": "DeploymentNotFound",
                                                                "message": "gone"}}),
                  FOUNDRY_DEPLOYMENT)
    assert raised.value.exit_code == EXIT_REMOTE and raised.value.status == 404
    assert raised.value.message == (
        f"FoundryDeployment/phi: deployment phi not found at {ENDPOINT} (check the name; list "
        "with `aimodels deployments list`): DeploymentNotFound: gone")


def test_other_errors_exit_5_with_the_service_message() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(400, json={"error": {"code": "OperationNotSupported",
                                                                "message": "not a chat model"}}))
    assert raised.value.exit_code == EXIT_REMOTE
    assert raised.value.message == ("ModelDeployment/phi: error 400 at http://gateway.test/v1/"
                                    "chat/completions: OperationNotSupported: not a chat model")


def test_a_conflict_from_the_gateway_is_not_a_plan_conflict() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(409, json={"error": {"code": "Busy"}}))
    assert raised.value.exit_code == EXIT_REMOTE


def test_429_is_retried_honouring_retry_after() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or _completion(request)

    answer, slept = _complete(handler)
    assert (answer.content, answer.total_tokens, answer.model) == ("hello", 2, "microsoft/Phi-4")
    assert slept == [2.0]


def test_429_past_the_retries_exits_5_with_the_wait() -> None:
    throttled = {"error": {"code": "429", "message": "Requests have exceeded the rate limit"}}
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(429, headers={"Retry-After": "30"}, json=throttled),
                  FOUNDRY_DEPLOYMENT)
    assert raised.value.exit_code == EXIT_REMOTE and raised.value.status == 429
    assert raised.value.message == (
        f"FoundryDeployment/phi: rate limited at {ENDPOINT} (after 5 attempts): 429: Requests "
        "have exceeded the rate limit; the service asks to wait 30 s before the next request")


def test_a_wait_beyond_the_retry_budget_is_not_slept() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(429, headers={"Retry-After": "600"}))
    assert "rate limited" in raised.value.message
    assert "asks to wait 600 s" in raised.value.message
    assert "attempts" not in raised.value.message


def test_5xx_is_retried_then_exits_5() -> None:
    answers = iter([httpx.Response(500), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or _completion(request)

    answer, slept = _complete(handler)
    assert answer.content == "hello" and len(slept) == 1
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    assert raised.value.exit_code == EXIT_REMOTE and raised.value.status == 502
    assert raised.value.message.startswith("ModelDeployment/phi: the service failed at "
                                           "http://gateway.test/v1/chat/completions (after 8 "
                                           "attempts)")


def test_an_unreachable_gateway_says_so() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RemoteError) as raised:
        _complete(refuse)
    assert raised.value.message.startswith("ModelDeployment/phi: Could not reach gateway.test")


def test_a_body_that_is_not_a_completion_is_a_remote_error() -> None:
    with pytest.raises(RemoteError) as raised:
        _complete(lambda r: httpx.Response(200, json={"choices": []}))
    assert raised.value.exit_code == EXIT_REMOTE
    assert raised.value.message.startswith("unexpected response from POST http://gateway.test/")
    assert "first bytes '{\"choices\": []}'" in raised.value.message


# Which credential `auto` picks for a FoundryDeployment when listKeys is refused.

class _Scope:
    """What chat_target asks of a ReadScope for a FoundryDeployment."""

    def account_path(self, account: str) -> str:
        return f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/" \
               f"accounts/{account}"


def _target_after_list_keys(answer: httpx.Response, auth: str) -> tuple[ChatTarget, list[Any]]:
    notes: list[Any] = []

    async def go() -> ChatTarget:
        config = ClientConfig(target="local", endpoint="http://arm.test")
        async with AzureClient(config, StaticTokenSource(), sleep=_no_sleep,
                               transport=httpx.MockTransport(lambda r: answer)) as client:
            row = dataclasses.replace(_row(FOUNDRY_DEPLOYMENT), endpoint=ENDPOINT[:-17])
            return await chat_target(client, _Scope(), row,  # type: ignore[arg-type]
                                     ChatOptions(auth=auth), notes.append)  # type: ignore[arg-type]

    return asyncio.run(go()), notes


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.mark.parametrize("refusal", [
    pytest.param(httpx.Response(403, json={"error": {"code": "AuthorizationFailed",
                                                     "message": "no listKeys action"}}),
                 id="403"),
    pytest.param(httpx.Response(400, json={"error": {"code": "BadRequest", "message":
                                                     "Failed to list key. disableLocalAuth is "
                                                     "set to true"}}), id="keys-disabled"),
])
def test_auto_falls_back_to_entra_when_list_keys_is_refused(refusal: httpx.Response) -> None:
    target, notes = _target_after_list_keys(refusal, "auto")
    assert (target.auth, dict(target.headers)) == (ENTRA_TOKEN, {})
    assert target.url == ENDPOINT + "?api-version=2024-10-21"
    [note] = notes
    assert "using an Entra ID token: the account's keys could not be listed" in note.summary
    with pytest.raises(AuthError) as raised:
        _target_after_list_keys(refusal, "key")
    assert raised.value.exit_code == EXIT_AUTH
    assert "FoundryDeployment/phi: the account's keys could not be listed" in \
        raised.value.message


def test_auto_does_not_hide_other_list_keys_failures() -> None:
    with pytest.raises(RemoteError) as raised:
        _target_after_list_keys(httpx.Response(400, json={"error": {"code": "BadRequest",
                                                                    "message": "nope"}}), "auto")
    assert raised.value.status == 400 and not isinstance(raised.value, AuthError)


def test_auto_sends_the_key_when_it_can_list_it() -> None:
    target, notes = _target_after_list_keys(httpx.Response(200, json={"key1": CANARY,
                                                                      "key2": "x"}), "auto")
    assert (target.auth, dict(target.headers), notes) == ("key from listKeys",
                                                          {"api-key": CANARY}, [])
    assert CANARY not in repr(target)
