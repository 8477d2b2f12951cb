"""Emulated inference: deterministic OpenAI ``chat.completion`` bodies.

``make_completion`` is shared by every family that serves chat completions (Foundry deployments
here, AI-manager namespace endpoints in containerservice), so the same prompt gets the same answer
whichever endpoint a test calls. Nothing is random: the id and ``created`` derive from a hash of
the input, and tokens are counted by splitting on whitespace.

The routes answer the Azure OpenAI data plane for Foundry deployments:
``POST /openai/deployments/{name}/chat/completions`` (the name is looked up in every account; an
``api-key`` picks the account it belongs to) and
``POST /accounts/{account}/openai/deployments/{name}/chat/completions`` (the account's
``properties.endpoint`` plus the usual path, so two accounts with the same deployment name stay
apart). Auth is ``api-key: <key1|key2 of listKeys>`` or an ``Authorization: Bearer`` token (a
Microsoft Entra ID token for Azure; the emulator takes any, as it does on ARM), as Azure OpenAI
accepts both; an account with ``properties.disableLocalAuth`` refuses keys with 403
``AuthenticationTypeDisabled``. The ``api-version`` query parameter is required, and one that is
not a date from 2022-12-01 (the first GA inference version) on answers 404 "Resource not found",
as Azure OpenAI answers an unknown version.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.cognitiveservices.common import ACCOUNTS, DEPLOYMENTS, account_keys

# 2025-01-01T00:00:00Z; ``created`` is this plus an offset from the input hash (within a year).
_CREATED_BASE = 1735689600
_YEAR_SECONDS = 365 * 24 * 3600


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by the emulator's whitespace tokenizer."""
    return len(text.split())


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message: a plain string, or the text parts of a content list."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content
                        if isinstance(p, dict) and p.get("type") == "text")
    return ""


def make_completion(model: str, messages: list[dict[str, Any]],
                    max_tokens: int | None = None) -> dict[str, Any]:
    """A deterministic OpenAI chat.completion body answering ``messages``.

    The reply echoes the last user message ("[emulated gpt-4o] You said: ..."), cut to
    ``max_tokens`` whitespace tokens (finish_reason ``length``) when it would be longer.
    Raises ValueError when ``max_tokens`` is given and below 1.
    """
    if max_tokens is not None and max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    digest = _digest(model, messages, max_tokens)
    words = _reply(model, messages).split()
    truncated = max_tokens is not None and len(words) > max_tokens
    words = words[:max_tokens] if truncated else words
    prompt_tokens = sum(count_tokens(message_text(m)) for m in messages)
    return {
        "id": f"chatcmpl-{digest[:29]}",
        "object": "chat.completion",
        "created": _CREATED_BASE + int(digest[:12], 16) % _YEAR_SECONDS,
        "model": model,
        "system_fingerprint": f"fp_{digest[29:39]}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(words), "refusal": None},
                "logprobs": None,
                "finish_reason": "length" if truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(words),
            "total_tokens": prompt_tokens + len(words),
        },
    }


def _reply(model: str, messages: list[dict[str, Any]]) -> str:
    user_texts = [message_text(m) for m in messages if m.get("role") == "user"]
    said = " ".join(user_texts[-1].split()) if user_texts else "(nothing)"
    return f"[emulated {model}] You said: {said}"


def _digest(model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> str:
    canonical = json.dumps([model, messages, max_tokens], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_PATH = "/openai/deployments/{deployment}/chat/completions"
_NO_CHAT = ("The chatCompletion operation does not work with the specified model, {model}. "
            "Please choose different model and try again.")
_BAD_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API "
            "endpoint for your resource.")
_NO_KEY = ("Access denied due to missing subscription key or bearer token. Make sure to include "
           "an api-key or Authorization header when making requests to an API.")
_NOT_DEPLOYED = ("The API deployment for this resource does not exist. If you created the "
                 "deployment within the last 5 minutes, please wait a moment and try again.")

_KEYS_DISABLED = "Key based authentication is disabled for this resource."
#: Azure OpenAI api-versions are dates, previews suffixed; 2022-12-01 was the first GA one.
_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?$")
_FIRST_API_VERSION = "2022-12-01"

Accounts = list[dict[str, Any]]


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """An Azure OpenAI error body (``{"error": {"code", "message", ...}}``)."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)


def _bad_request(message: str, param: str | None) -> JSONResponse:
    return _error(400, "BadRequest", message, type="invalid_request_error", param=param)


def _accounts(emu: Any, name: str | None) -> Accounts:
    docs = emu.store.list(ACCOUNTS)
    return [d for d in docs if name is None or d["name"].lower() == name.lower()]


def _authorized(emu: Any, request: Request, accounts: Accounts) -> tuple[Accounts, Response | None]:
    """The accounts the caller may use: the one owning the api-key, or all for a bearer token."""
    key = request.headers.get("api-key")
    if key:
        owned = [a for a in accounts if key in account_keys(emu, a).values()]
        if not owned:
            return [], _error(401, "401", _BAD_KEY)
        enabled = [a for a in owned if not a["properties"].get("disableLocalAuth")]
        return (enabled, None) if enabled else \
            ([], _error(403, "AuthenticationTypeDisabled", _KEYS_DISABLED))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return accounts, None
    return [], _error(401, "401", _NO_KEY)


def _deployment(emu: Any, accounts: Accounts, name: str) -> dict[str, Any] | Response:
    """The Succeeded deployment ``name`` of one of ``accounts``, or 404 DeploymentNotFound."""
    now = emu.now()
    found: list[tuple[str, dict[str, Any]]] = []
    for account in accounts:
        doc = emu.store.get(DEPLOYMENTS, f"{_key_of(account)}/{name.lower()}")
        if doc is not None and lro.phase(doc, now) == "Succeeded" and not lro.is_gone(doc, now):
            found.append((account["name"], doc))
    if not found:
        return _error(404, "DeploymentNotFound", _NOT_DEPLOYED)
    if len(found) > 1:
        names = ", ".join(sorted(n for n, _ in found))
        return _bad_request(f"The deployment '{name}' exists in several accounts ({names}); "
                            "call /accounts/{account}/openai/deployments/... or send that "
                            "account's api-key.", None)
    return found[0][1]


def _key_of(account: dict[str, Any]) -> str:
    """The account's store key, from its id (/subscriptions/{s}/resourceGroups/{rg}/.../{name})."""
    parts = account["id"].split("/")
    return "/".join(p.lower() for p in (parts[2], parts[4], parts[-1]))


async def _parse(request: Request) -> tuple[list[dict[str, Any]], int | None, Response | None]:
    """messages and max_tokens of a chat.completions body, or a 400."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return [], None, _bad_request("The request body is not valid JSON.", None)
    if not isinstance(body, dict):
        return [], None, _bad_request("The request body must be a JSON object.", None)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        return [], None, _bad_request("'messages' must be a non-empty array of objects with a "
                                      "'role'.", "messages")
    if body.get("stream"):
        return [], None, _bad_request("The emulator does not stream; send 'stream': false.",
                                      "stream")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        return [], None, _bad_request("'max_tokens' must be an integer of at least 1.",
                                      "max_tokens")
    return messages, limit, None


def _known_api_version(version: str) -> bool:
    found = _API_VERSION.match(version)
    return found is not None and found.group(1) >= _FIRST_API_VERSION


def routes(emu: Any) -> list[Route]:
    """Chat completions on Foundry deployments."""

    async def chat(request: Request) -> Response:
        if not _known_api_version(request.query_params.get("api-version", "")):
            return _error(404, "404", "Resource not found")
        candidates = _accounts(emu, request.path_params.get("account"))
        allowed, error = _authorized(emu, request, candidates)
        if error:
            return error
        doc = _deployment(emu, allowed, request.path_params["deployment"])
        if isinstance(doc, Response):
            return doc
        messages, limit, error = await _parse(request)
        if error:
            return error
        model = doc["properties"]["model"]["name"]
        if doc["properties"].get("capabilities", {}).get("chatCompletion") != "true":
            return _error(400, "OperationNotSupported", _NO_CHAT.format(model=model))
        return JSONResponse(make_completion(model, messages, limit))

    return [
        Route(_PATH, chat, methods=["POST"]),
        Route("/accounts/{account}" + _PATH, chat, methods=["POST"]),
    ]
