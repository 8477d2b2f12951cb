"""``chat DEPLOYMENT PROMPT``: one OpenAI-compatible chat completion against a live deployment,
base or custom, as a smoke test (docs/commands.md, ``chat``).

A ModelDeployment answers on its namespace gateway: ``{endpoint}/chat/completions`` from
listAccessInfo, the namespace key as a bearer token, the deployment's name as ``model``; the
gateway takes its keys only. A FoundryDeployment answers on its account, as Azure OpenAI does:
``{endpoint}openai/deployments/{name}/chat/completions?api-version=...``, authenticated either
way Azure OpenAI accepts:

    key     a key of listKeys in the ``api-key`` header
    entra   a Microsoft Entra ID token for ``https://cognitiveservices.azure.com/.default``
            (azure-identity's DefaultAzureCredential, through the transport's one token
            source; the emulator's static dev token on the emulator)
    auto    (the default) entra when the account disables keys (``disableLocalAuth``) or the
            caller may not list them (listKeys refused); else the key

Keys travel only in request headers, which the transport redacts in every log line and error.
Failures are mapped once, in ``transport/errors.py`` (the inference rules: 401/403 exit 4,
404/429/5xx exit 5 after the transport's retries, Retry-After honoured within its budget);
this module only says which deployment and which credential they were about.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aimodels.errors import AimodelsError, AuthError, Diagnostic, RemoteError, UsageError, warning
from aimodels.live import paths
from aimodels.model.kinds import MODEL_DEPLOYMENT
from aimodels.service.access import namespace_keys
from aimodels.service.deployments import DeploymentRow, find_deployment, read_deployments
from aimodels.service.reading import ReadScope, ReadTarget, run_read
from aimodels.transport.client import AzureClient
from aimodels.transport.config import INFERENCE_API_VERSION
from aimodels.transport.errors import KEYS_DISABLED_HINT, NotFoundError, unexpected_shapes
from aimodels.transport.redact import register_secret

AuthMode = Literal["auto", "key", "entra"]
#: ``2024-10-21`` or ``2025-04-01-preview``: the shape of every Azure OpenAI api-version.
API_VERSION_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
KEY_FROM_LIST_KEYS = "key from listKeys"
KEY_FROM_ACCESS_INFO = "key from listAccessInfo"
ENTRA_TOKEN = "Entra ID token"


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """How to send the completion: ``max_tokens`` (None: the service's default), the ``auth``
    mode, and the api-version of a FoundryDeployment (None: ``INFERENCE_API_VERSION``)."""

    max_tokens: int | None = None
    auth: AuthMode = "auto"
    api_version: str | None = None


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """Where one deployment answers and how to authenticate; ``headers`` may hold a key, so
    they are kept out of the repr (no auth header: the transport sends an Entra ID token).
    ``model`` is sent in the body (gateways route on it); ``auth`` says which credential."""

    deployment: DeploymentRow
    url: str
    headers: Mapping[str, str] = field(repr=False)
    model: str | None = None
    auth: str = KEY_FROM_ACCESS_INFO


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
    auth: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "kind": self.kind, "model": self.model,
                "content": self.content, "finishReason": self.finish_reason,
                "usage": {"promptTokens": self.prompt_tokens,
                          "completionTokens": self.completion_tokens,
                          "totalTokens": self.total_tokens},
                "latencyMs": round(self.latency_seconds * 1000, 1), "auth": self.auth}


def chat(target: ReadTarget, ref: str, prompt: str, options: ChatOptions | None = None,
         **client_options: Any) -> tuple[ChatAnswer, tuple[Diagnostic, ...]]:
    """Find the deployment ``ref`` names, pick its credential, send ``prompt``, return the
    answer and the warnings (the loader's, and a fallback to Entra ID)."""
    options = options or ChatOptions()
    check_options(options)
    notes: list[Diagnostic] = []

    async def work(scope: ReadScope, client: AzureClient) -> ChatAnswer:
        listing = await read_deployments(scope, client)
        row = find_deployment(listing.rows, ref, scope)
        where = await chat_target(client, scope, row, options, notes.append)
        return await complete(client, where, prompt, options.max_tokens)

    scope, answer = run_read(target, work, **client_options)
    return answer, scope.warnings + tuple(notes)


def check_options(options: ChatOptions) -> None:
    """Refuse a malformed api-version before any call (exit 64)."""
    version = options.api_version
    if version is not None and not API_VERSION_SHAPE.match(version):
        raise UsageError(f"--api-version {version!r} is not an api-version",
                         hint=f"Pass a date such as {INFERENCE_API_VERSION} or "
                         "2025-04-01-preview.")


async def chat_target(client: AzureClient, scope: ReadScope, row: DeploymentRow,
                      options: ChatOptions | None = None,
                      note: Callable[[Diagnostic], None] = lambda _: None) -> ChatTarget:
    """The URL and credential of ``row``'s inference endpoint (see the module docstring)."""
    options = options or ChatOptions()
    if row.kind == MODEL_DEPLOYMENT:
        _gateway_options(row, options)
        endpoint, key = await namespace_keys(client, scope, str(row.ai_manager),
                                             str(row.namespace))
        return ChatTarget(row, endpoint.rstrip("/") + "/chat/completions",
                          {"Authorization": f"Bearer {key}"}, model=row.name)
    version = options.api_version or INFERENCE_API_VERSION
    url = f"{row.endpoint}/chat/completions?api-version={version}"
    api_key = await _account_key(client, scope, row, options.auth, note)
    if api_key is None:
        return ChatTarget(row, url, {}, auth=ENTRA_TOKEN)
    return ChatTarget(row, url, {"api-key": api_key}, auth=KEY_FROM_LIST_KEYS)


def _gateway_options(row: DeploymentRow, options: ChatOptions) -> None:
    """A namespace gateway takes its keys and no api-version: refuse flags it cannot honour."""
    address = f"{row.kind}/{row.name}"
    if options.auth == "entra":
        raise UsageError(f"{address} answers on its AI manager namespace gateway, which takes "
                         "the namespace keys (listAccessInfo) only",
                         hint="Drop --auth entra (Entra ID tokens work on FoundryDeployments).")
    if options.api_version is not None:
        raise UsageError(f"{address} answers on an OpenAI /v1 gateway, which takes no "
                         "api-version", hint="Drop --api-version (it is for FoundryDeployments).")


async def _account_key(client: AzureClient, scope: ReadScope, row: DeploymentRow,
                       auth: AuthMode, note: Callable[[Diagnostic], None]) -> str | None:
    """key1 of the account, or None for an Entra ID token (``auto`` falls back to one)."""
    if auth == "entra":
        return None
    address = f"{row.kind}/{row.name}"
    disabled = f"account {row.account} disables keys (disableLocalAuth)"
    if row.details.get("localAuthDisabled"):
        if auth == "key":
            raise AuthError(f"{address}: {disabled}", hint=KEYS_DISABLED_HINT)
        note(warning(f"{address}: using an Entra ID token: {disabled}"))
        return None
    path = paths.account_keys(scope.account_path(str(row.account)))
    try:
        response = await client.request("POST", path, idempotent=True)
    except (AuthError, RemoteError) as exc:
        if isinstance(exc, NotFoundError) or not _keys_withheld(exc):
            raise
        if auth == "key":
            raise AuthError(f"{address}: the account's keys could not be listed: "
                            f"{exc.message}", hint=KEYS_DISABLED_HINT if isinstance(
                                exc, RemoteError) else exc.hint) from exc
        note(warning(f"{address}: using an Entra ID token: the account's keys could not be "
                     f"listed ({exc.message})"))
        return None
    keys = response.body if isinstance(response.body, dict) else {}
    for name in ("key1", "key2"):
        register_secret(str(keys.get(name) or ""))
    return str(keys.get("key1") or "")


def _keys_withheld(exc: AimodelsError) -> bool:
    """listKeys refused for a reason an Entra ID token gets round: no right to list keys
    (403), or keys disabled on the account (400 "disableLocalAuth")."""
    if isinstance(exc, AuthError):
        return True
    return isinstance(exc, RemoteError) and exc.status == 400 and \
        "disablelocalauth" in exc.message.lower()


async def complete(client: AzureClient, target: ChatTarget, prompt: str,
                   max_tokens: int | None = None,
                   clock: Callable[[], float] = time.perf_counter) -> ChatAnswer:
    """Send one chat completion and read the answer.

    A completion changes nothing on the service, so it is retried like a GET (429 and 5xx,
    Retry-After honoured within the transport's budget); errors come from the transport's
    inference rules, told which deployment and credential they were about.
    """
    body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}]}
    if target.model:
        body["model"] = target.model
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    started = clock()
    with _about(target):
        response = await client.request("POST", target.url, api="inference", json=body,
                                        headers=target.headers, idempotent=True,
                                        add_api_version=False)
    with unexpected_shapes(f"POST {target.url}", response.body):
        answer = answer_of(target.deployment, response.body, clock() - started)
    return dataclasses.replace(answer, auth=target.auth)


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
def _about(target: ChatTarget) -> Iterator[None]:
    """The transport's error, prefixed with the deployment (and, for an auth failure, the
    credential that was refused); its class, code, status and exit code kept."""
    try:
        yield
    except (AuthError, RemoteError) as exc:
        raise _told(target, exc) from exc


def _told(target: ChatTarget, exc: AuthError | RemoteError) -> AimodelsError:
    row = target.deployment
    message = f"{row.kind}/{row.name}: {exc.message}"
    hint = exc.hint
    if isinstance(exc, AuthError):
        message += f" (sent: {target.auth})"
    elif isinstance(exc, NotFoundError) and row.state and row.state != "Succeeded":
        hint = f"Its provisioningState is {row.state}: it serves once provisioning succeeds."
    return dataclasses.replace(exc, message=message, hint=hint)
