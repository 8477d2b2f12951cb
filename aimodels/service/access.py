"""``access NAMESPACE``: the OpenAI-compatible endpoint and API keys of an AI manager namespace
(``listAccessInfo``, docs/commands.md), with the keys masked unless asked for.

The keys are secrets: they stay inside ``AccessInfo`` (out of its repr) and leave it only
through ``key_text(show=True)``, which the CLI calls only for ``--show-keys``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aimodels.errors import AimodelsError, Diagnostic, UsageError
from aimodels.live import paths
from aimodels.service.reading import ReadScope, ReadTarget, run_read
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError
from aimodels.transport.redact import register_secret

#: The environment variable the examples read the key from, so they never hold one.
KEY_VARIABLE = "AIMODELS_API_KEY"
#: Keys shorter than this are masked whole: showing 8 characters of them would show too much.
_SHOWABLE_LENGTH = 16


def mask_key(key: str) -> str:
    """``abcd…wxyz``: the first and last four characters, enough to tell keys apart."""
    if len(key) < _SHOWABLE_LENGTH:
        return "****"
    return f"{key[:4]}…{key[-4:]}"


@dataclass(frozen=True, slots=True)
class AccessInfo:
    """A namespace's gateway endpoint and keys, and the deployments serving behind it."""

    ai_manager: str
    namespace: str
    endpoint: str
    primary_key: str = field(repr=False)
    secondary_key: str = field(repr=False)
    last_rotated_at: str | None = None
    deployments: tuple[str, ...] = ()
    #: True on the embedded emulator of ``target: local``: the endpoint's port lives only as
    #: long as the command that printed it.
    ephemeral: bool = False

    def key_text(self, show: bool) -> tuple[str, str]:
        """(primary, secondary) as printed: in full only when ``show``."""
        if show:
            return self.primary_key, self.secondary_key
        return mask_key(self.primary_key), mask_key(self.secondary_key)

    def curl_example(self) -> str:
        """A ready-to-paste chat completion with curl; the key comes from ``$AIMODELS_API_KEY``."""
        body = json.dumps({"model": self.example_deployment,
                           "messages": [{"role": "user", "content": "Hello!"}]})
        return (f"curl -sS {shlex.quote(self.endpoint.rstrip('/') + '/chat/completions')} \\\n"
                f"  -H \"Authorization: Bearer ${KEY_VARIABLE}\" \\\n"
                f"  -H 'Content-Type: application/json' \\\n"
                f"  -d {shlex.quote(body)}")

    def chat_example(self) -> str:
        """The same smoke test with ``aimodels chat`` (it fetches the key itself)."""
        ref = f"{self.ai_manager}/{self.namespace}/{self.example_deployment}"
        return f"aimodels chat {shlex.quote(ref)} 'Hello!'"

    @property
    def example_deployment(self) -> str:
        return self.deployments[0] if self.deployments else "<deployment>"

    def to_dict(self, show_keys: bool) -> dict[str, Any]:
        """JSON with the keys masked unless ``show_keys``; ``keysMasked`` says which."""
        primary, secondary = self.key_text(show_keys)
        return {"aiManager": self.ai_manager, "namespace": self.namespace,
                "endpoint": self.endpoint, "primaryKey": primary, "secondaryKey": secondary,
                "keysMasked": not show_keys, "lastRotatedAt": self.last_rotated_at,
                "deployments": list(self.deployments),
                "examples": {"curl": self.curl_example(), "chat": self.chat_example()}}


def get_access(target: ReadTarget, namespace: str, ai_manager: str | None = None,
               reveal: bool = False) -> tuple[AccessInfo, tuple[Diagnostic, ...]]:
    """listAccessInfo of ``namespace`` in ``ai_manager`` (default: the Stack's); ``reveal``
    when the keys are to be printed in full (see ``read_access``)."""

    async def work(scope: ReadScope, client: AzureClient) -> AccessInfo:
        return await read_access(client, scope, namespace, ai_manager, reveal)

    scope, info = run_read(target, work)
    ephemeral = scope.stack.target == "local" and not target.endpoint
    return replace(info, ephemeral=ephemeral), scope.warnings


async def read_access(client: AzureClient, scope: ReadScope, namespace: str,
                      ai_manager: str | None, reveal: bool = False) -> AccessInfo:
    """Call listAccessInfo, then list the namespace's deployments for the examples.

    The keys are registered as secrets (``transport.redact``), so no output shows them,
    unless ``reveal``: ``access --show-keys`` is the one place a person asked to see them.
    """
    manager = ai_manager or scope.stack.ai_manager
    if not manager:
        raise UsageError("No AI manager: the Stack names none",
                         hint="Pass --ai-manager NAME, or set spec.aiManager in the Stack.")
    path = scope.namespace_path(manager, namespace)
    try:
        body = await client.request_json("POST", paths.access_info(path), idempotent=True)
    except NotFoundError as exc:
        raise await _missing(client, scope, manager, namespace) from exc
    if not reveal:
        _register_keys(body)
    return AccessInfo(
        ai_manager=manager, namespace=namespace, endpoint=str(body.get("endpoint") or ""),
        primary_key=str(body.get("primaryKey") or ""),
        secondary_key=str(body.get("secondaryKey") or ""),
        last_rotated_at=body.get("lastRotatedAt"),
        deployments=await _serving(client, path),
    )


async def namespace_keys(client: AzureClient, scope: ReadScope, ai_manager: str,
                         namespace: str) -> tuple[str, str]:
    """(endpoint, primary key) of a namespace, for ``chat``; the key must stay unprinted."""
    path = paths.access_info(scope.namespace_path(ai_manager, namespace))
    body = await client.request_json("POST", path, idempotent=True)
    _register_keys(body)
    return str(body.get("endpoint") or ""), str(body.get("primaryKey") or "")


def _register_keys(body: Mapping[str, Any]) -> None:
    """Both keys of a listAccessInfo answer become known secrets, scrubbed from all output."""
    for name in ("primaryKey", "secondaryKey"):
        register_secret(str(body.get(name) or ""))


async def _serving(client: AzureClient, namespace_path: str) -> tuple[str, ...]:
    """Names of the namespace's deployments that finished provisioning (for the examples)."""
    try:
        items = await client.list_all(paths.model_deployments(namespace_path))
    except NotFoundError:
        return ()
    return tuple(sorted(str(i.get("name")) for i in items
                        if (i.get("properties") or {}).get("provisioningState") == "Succeeded"))


async def _missing(client: AzureClient, scope: ReadScope, manager: str,
                   namespace: str) -> AimodelsError:
    """Why listAccessInfo was 404: no such AI manager, or no such namespace in it."""
    group = scope.stack.resource_group
    try:
        found = await client.list_all(paths.namespaces(scope.manager_path(manager)))
    except NotFoundError:
        return AimodelsError(f"no AI manager named {manager} in resource group {group}",
                             hint="Pass --ai-manager NAME, or check spec.aiManager in the Stack.")
    names = ", ".join(sorted(str(n.get("name")) for n in found)) or "none"
    return AimodelsError(f"no namespace named {namespace} in AI manager {manager}",
                         hint=f"Its namespaces: {names}.")
