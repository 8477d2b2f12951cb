"""OpenAI-compatible inference on AI manager namespace gateways:
``POST /inference/{aiManager}/{namespace}/v1/chat/completions`` and ``GET .../v1/models``.

Like the real gateway, a request authenticates with one of the namespace's keys
(``Authorization: Bearer <key>`` or ``api-key: <key>``, from listAccessInfo) and names a model
deployment of that namespace in ``model``. A deployment answers once provisioned (and while an
update rolls out); before that, or after its delete began, it is 404. Answers come from the
shared deterministic generator in ``inference.py``.
"""

from __future__ import annotations

import functools
import hmac
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.containerservice import arm
from aimodels.emulator.containerservice.deployments import is_serving, live_deployment
from aimodels.emulator.containerservice.parents import access_keys
from aimodels.emulator.http import read_json
from aimodels.emulator.inference import make_completion


def openai_error(status: int, code: str, message: str, param: str | None = None) -> JSONResponse:
    """An error in the OpenAI wire shape (what OpenAI-compatible clients parse)."""
    kinds = {401: "authentication_error", 404: "not_found_error"}
    kind = kinds.get(status, "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}},
                        status)


def presented_key(request: Request) -> str:
    """The key a client sent, as ``api-key`` or as a bearer token ('' when none)."""
    if request.headers.get("api-key"):
        return request.headers["api-key"].strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def namespaces_named(emu: Any, manager: str, namespace: str) -> list[dict[str, Any]]:
    """Every namespace called ``namespace`` under an AI manager called ``manager``.

    The gateway URL carries no subscription or resource group, so names may repeat across
    them; the key tells the namespaces apart.
    """
    wanted = (manager.lower(), namespace.lower())
    found = []
    for doc in emu.store.list(arm.NAMESPACES):
        parts = doc["id"].split("/")
        if (parts[-3].lower(), parts[-1].lower()) == wanted:
            found.append(doc)
    return found


def authenticated_parent(emu: Any, request: Request) -> arm.Parent | Response:
    """The namespace whose key the request carries, or the 404/401 answer."""
    p = request.path_params
    candidates = namespaces_named(emu, p["manager"], p["ns"])
    if not candidates:
        return openai_error(404, "NotFound", f"No gateway serves namespace '{p['ns']}' of AI "
                            f"manager '{p['manager']}'.")
    key = presented_key(request)
    for doc in candidates:
        if key and any(hmac.compare_digest(key, k) for k in access_keys(emu, doc)):
            parts = doc["id"].split("/")
            return arm.Parent(sub=parts[2], rg=parts[4], location=doc["location"],
                              ai_manager={"name": parts[-3]}, namespace=doc)
    return openai_error(401, "401", "Access denied due to a missing or invalid key. Send a key "
                        "from listAccessInfo as 'Authorization: Bearer <key>' or 'api-key: <key>'.")


def _check_request(body: dict[str, Any]) -> Response | None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        return openai_error(400, "BadRequest", "'model' must name a model deployment.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or \
            not all(isinstance(m, dict) for m in messages):
        return openai_error(400, "BadRequest", "'messages' must be a non-empty list of "
                            "message objects.", "messages")
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        return openai_error(400, "BadRequest", "'max_tokens' must be an integer >= 1.",
                            "max_tokens")
    if body.get("stream"):
        return openai_error(400, "BadRequest", "The emulator does not stream; send "
                            "'stream': false.", "stream")
    return None


async def chat_completions(emu: Any, request: Request) -> Response:
    """A deterministic chat.completion from the deployment named in ``model``."""
    parent = authenticated_parent(emu, request)
    if isinstance(parent, Response):
        return parent
    body = await read_json(request)
    if isinstance(body, Response):
        return openai_error(400, "BadRequest", "The request body must be a JSON object.")
    problem = _check_request(body)
    if problem is not None:
        return problem
    name = body["model"]
    doc = live_deployment(emu, parent, name)
    ready, replicas = is_serving(emu, request, doc) if doc else (False, 0)
    if doc is None or not ready:
        state = lro.phase(doc, emu.now()) if doc else "not found"
        return openai_error(404, "DeploymentNotFound",
                            f"The model deployment '{name}' of namespace "
                            f"'{parent.namespace_name}' is not serving (provisioningState: "
                            f"{state}).", "model")
    if replicas == 0:
        return openai_error(503, "NoReadyReplicas",
                            f"The model deployment '{name}' is scaled to zero replicas.")
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    return JSONResponse(make_completion(doc["name"], body["messages"], limit))


async def list_models(emu: Any, request: Request) -> Response:
    """The namespace's serving deployments, as OpenAI ``/v1/models`` lists models."""
    parent = authenticated_parent(emu, request)
    if isinstance(parent, Response):
        return parent
    prefix = arm.key(parent.sub, parent.rg, parent.manager_name, parent.namespace_name) + "/"
    data = []
    for doc in emu.store.list(arm.MODEL_DEPLOYMENTS, prefix):
        if is_serving(emu, request, doc)[0]:
            created = datetime.fromisoformat(doc["systemData"]["createdAt"])
            data.append({"id": doc["name"], "object": "model", "owned_by": "aimodels-emulator",
                         "created": int(created.timestamp())})
    return JSONResponse({"object": "list", "data": data})


def routes(emu: Any) -> list[Route]:
    """Chat completions and the model list of each namespace gateway (no api-version needed)."""
    base = "/inference/{manager}/{ns}/v1"
    return [
        Route(base + "/chat/completions", functools.partial(chat_completions, emu),
              methods=["POST"]),
        Route(base + "/models", functools.partial(list_models, emu), methods=["GET"]),
    ]
