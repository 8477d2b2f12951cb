"""``chat DEPLOYMENT PROMPT``: one OpenAI-compatible chat completion against a live deployment,
as a smoke test (seed 002, seed 003 §2.3).

A ModelDeployment answers on its namespace gateway: ``{endpoint}/chat/completions`` from
listAccessInfo, the key as a bearer token, the deployment's name as ``model``. A
FoundryDeployment answers on its account: ``{endpoint}openai/deployments/{name}/chat/
completions?api-version=...``, a key of listKeys as the ``api-key`` header. Keys travel only in
request headers, which the transport redacts in every log line and error.

Errors, after the transport's retries (429 and 503 are retried for this POST):

    401 / 403   AuthError (exit 4), with what to check
    404         RemoteError (exit 5): "no deployment named X answers ...; see deployments list"
    other       RemoteError (exit 5), the status and the service's message
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aimodels.errors import AuthError, Diagnostic, RemoteError
from aimodels.model.kinds import MODEL_DEPLOYMENT
from aimodels.service.access import namespace_keys
from aimodels.service.deployments import (
    LIST_HINT,
    DeploymentRow,
    find_deployment,
    read_deployments,
)
from aimodels.service.reading import ReadScope, ReadTarget, run_read
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError, unexpected_shapes
from aimodels.transport.redact import register_secret


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """Where one deployment answers and how to authenticate; ``headers`` hold the key, so
    they are kept out of the repr. ``model`` is sent in the body (gateways route on it)."""

    deployment: DeploymentRow
    url: str
    headers: Mapping[str, str] = field(repr=False)
    model: str | None = None
    add_api_version: bool = False


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """The assistant's reply and what it cost: tokens, and the latency seen by the client."""

    deployment: str
    kind: str
    model: str
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "kind": self.kind, "model": self.model,
                "content": self.content, "finishReason": self.finish_reason,
                "usage": {"promptTokens": self.prompt_tokens,
                          "completionTokens": self.completion_tokens,
                          "totalTokens": self.total_tokens},
                "latencyMs": round(self.latency_seconds * 1000, 1)}


def chat(target: ReadTarget, ref: str, prompt: str, max_tokens: int | None = None,
         **client_options: Any) -> tuple[ChatAnswer, tuple[Diagnostic, ...]]:
    """Find the deployment ``ref`` names, fetch its key, send ``prompt``, return the answer."""

    async def work(scope: ReadScope, client: AzureClient) -> ChatAnswer:
        listing = await read_deployments(scope, client)
        row = find_deployment(listing.rows, ref, scope)
        return await complete(client, await chat_target(client, scope, row), prompt, max_tokens)

    scope, answer = run_read(target, work, **client_options)
    return answer, scope.warnings


async def chat_target(client: AzureClient, scope: ReadScope, row: DeploymentRow) -> ChatTarget:
    """The URL and key of ``row``'s inference endpoint (listAccessInfo or listKeys)."""
    if row.kind == MODEL_DEPLOYMENT:
        endpoint, key = await namespace_keys(client, scope, str(row.ai_manager),
                                             str(row.namespace))
        return ChatTarget(row, endpoint.rstrip("/") + "/chat/completions",
                          {"Authorization": f"Bearer {key}"}, model=row.name)
    keys = await client.request_json("POST", scope.account_path(str(row.account)) + "/listKeys",
                                     idempotent=True)
    for name in ("key1", "key2"):
        register_secret(str(keys.get(name) or ""))
    return ChatTarget(row, row.endpoint + "/chat/completions",
                      {"api-key": str(keys.get("key1") or "")}, add_api_version=True)


async def complete(client: AzureClient, target: ChatTarget, prompt: str,
                   max_tokens: int | None = None,
                   clock: Callable[[], float] = time.perf_counter) -> ChatAnswer:
    """Send one chat completion and read the answer; errors mapped as the module says."""
    body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}]}
    if target.model:
        body["model"] = target.model
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    started = clock()
    with _mapped_errors(target.deployment):
        response = await client.request("POST", target.url, api="inference", json=body,
                                        headers=target.headers,
                                        add_api_version=target.add_api_version)
    with unexpected_shapes(f"POST {target.url}", response.body):
        return answer_of(target.deployment, response.body, clock() - started)


def answer_of(row: DeploymentRow, body: Any, latency: float) -> ChatAnswer:
    """The ChatAnswer of a ``chat.completion`` body; read under ``unexpected_shapes``, since
    a body that is not one fails here with a KeyError, TypeError or the like."""
    choice = body["choices"][0]
    usage = body.get("usage") or {}
    return ChatAnswer(
        deployment=row.name, kind=row.kind, model=row.model or str(body.get("model") or ""),
        content=str(choice["message"].get("content") or ""),
        finish_reason=str(choice.get("finish_reason") or ""),
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        total_tokens=int(usage.get("total_tokens", 0)), latency_seconds=latency)


@contextmanager
def _mapped_errors(row: DeploymentRow) -> Iterator[None]:
    """Inference failures as the errors of this command (see the module docstring)."""
    try:
        yield
    except (AuthError, RemoteError) as exc:
        raise _translated(row, exc) from exc


def _translated(row: DeploymentRow, exc: AuthError | RemoteError) -> Exception:
    address = f"{row.kind}/{row.name}"
    if isinstance(exc, AuthError):
        source = "listAccessInfo" if row.kind == MODEL_DEPLOYMENT else "listKeys"
        return AuthError(f"{address} refused the key from {source}: {exc.message}",
                         hint="The keys may have been rotated just now: run the command again. "
                         "If it keeps failing, check the keys with `aimodels access` (AI "
                         "manager namespaces) or in the Foundry account.")
    if isinstance(exc, NotFoundError):
        return RemoteError(f"no deployment named {row.name} answers at {row.parent} "
                           f"(provisioningState: {row.state or 'unknown'}); {LIST_HINT}",
                           hint="A deployment serves once it has finished provisioning.",
                           code=exc.code, status=404)
    said = "answered with an error" if exc.status else "could not be reached"
    return RemoteError(f"{address} {said}: {exc.message}", hint=exc.hint, code=exc.code,
                       status=exc.status)
