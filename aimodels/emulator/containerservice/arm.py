"""ARM plumbing shared by the Microsoft.ContainerService routes: api-version, errors raised as
exceptions, parent lookup (subscription, resource group, AI manager, namespace), resource
envelopes, body validation and ``nextLink`` paging.

Handlers raise ``ArmFailure`` anywhere in their call chain and ``endpoint`` turns it into the
ARM error response, so a validation step is one line at the call site rather than a returned
``(value, error)`` pair checked at every level.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import http, lro
from aimodels.emulator.http import arm_error, base_url, json_response, read_json

API_VERSION = "2026-08-02-preview"
PROVIDER = "Microsoft.ContainerService"
#: Every route of this provider lives under one of these (path params ``sub`` and ``rg``).
SUB_PREFIX = "/subscriptions/{sub}/providers/" + PROVIDER
RG_PREFIX = "/subscriptions/{sub}/resourceGroups/{rg}/providers/" + PROVIDER
#: Resource groups and subscriptions are ARM-wide, so their collection is not ``cs.``-prefixed:
#: other families may read it to scope their own resources.
RESOURCE_GROUPS = "arm.resourceGroups"
AI_MANAGERS = "cs.aiManagers"
NAMESPACES = "cs.namespaces"
MODEL_SOURCES = "cs.modelSources"
MODEL_DEPLOYMENTS = "cs.modelDeployments"
#: Items per list page; ``$top`` may ask for fewer.
PAGE_SIZE = 50
CHILD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CREATED_BY = "user@example.com"


class ArmFailure(Exception):
    """An ARM error answer (status, code, message) raised from anywhere inside a handler."""

    def __init__(self, status: int, code: str, message: str,
                 answer: Response | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self._answer = answer

    def response(self) -> Response:
        return self._answer or arm_error(self.status, self.code, self.message)


def bad_request(code: str, message: str) -> ArmFailure:
    """A 400 with ``code``: the most common failure of a write."""
    return ArmFailure(400, code, message)


Handler = Callable[[Request], Awaitable[Response]]
#: A route handler of this provider: module-level, given the emulator explicitly.
EmuHandler = Callable[[Any, Request], Awaitable[Response]]


def endpoint(emu: Any, handler: EmuHandler) -> Handler:
    """The Starlette endpoint running ``handler(emu, request)``: our api-version is required
    first (as ARM checks it before anything else), and ``ArmFailure`` becomes its response."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            check_api_version(request)
            return await handler(emu, request)
        except ArmFailure as failure:
            return failure.response()

    return wrapped


def routes_of(emu: Any, table: Sequence[tuple[str, str, EmuHandler]]) -> list[Route]:
    """Starlette routes for (path, method, handler) rows, each wrapped by ``endpoint``."""
    return [Route(path, endpoint(emu, handler), methods=[method])
            for path, method, handler in table]


def check_api_version(request: Request) -> None:
    """400 MissingApiVersionParameter / InvalidApiVersionParameter unless ours is given."""
    given = request.query_params.get("api-version")
    if not given:
        raise bad_request("MissingApiVersionParameter",
                          "The api-version query parameter (?api-version=) is required for all "
                          "requests.")
    if given != API_VERSION:
        raise bad_request("InvalidApiVersionParameter",
                          f"The api-version '{given}' is invalid for provider '{PROVIDER}' (AI "
                          f"manager resources). The supported versions are '{API_VERSION}'.")


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, or a 400 InvalidRequestContent."""
    body = await read_json(request)
    if isinstance(body, Response):
        raise ArmFailure(400, "InvalidRequestContent", "The request body is not a JSON object.")
    return body


def key(*parts: str) -> str:
    """A store key: the ARM names, lower-cased (ARM compares names case-insensitively)."""
    return "/".join(p.lower() for p in parts)


@dataclass(frozen=True, slots=True)
class Parent:
    """The resolved parents of a request: always a resource group, optionally deeper."""

    sub: str
    rg: str
    location: str
    ai_manager: dict[str, Any] | None = None
    namespace: dict[str, Any] | None = None

    @property
    def manager_name(self) -> str:
        return self.ai_manager["name"] if self.ai_manager else ""

    @property
    def namespace_name(self) -> str:
        return self.namespace["name"] if self.namespace else ""


def resource_group(emu: Any, sub: str, rg: str) -> Parent:
    """The resource group, or 404 SubscriptionNotFound / ResourceGroupNotFound."""
    subscription(emu, sub)
    doc = emu.store.get(RESOURCE_GROUPS, key(sub, rg))
    if doc is None:
        raise ArmFailure(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return Parent(sub=sub, rg=doc["name"], location=doc["location"])


def subscription(emu: Any, sub: str) -> None:
    """404 SubscriptionNotFound unless some resource group of ``sub`` is known."""
    if not emu.store.list(RESOURCE_GROUPS, key(sub) + "/"):
        raise ArmFailure(404, "SubscriptionNotFound",
                         f"The subscription '{sub}' could not be found.")


def ai_manager(emu: Any, sub: str, rg: str, name: str, *, as_parent: bool = True) -> Parent:
    """The AI manager and its resource group; 404 ParentResourceNotFound (or ResourceNotFound
    when the AI manager itself was asked for)."""
    group = resource_group(emu, sub, rg)
    doc = emu.store.get(AI_MANAGERS, key(sub, rg, name))
    if doc is None:
        raise _missing(f"{PROVIDER}/aiManagers/{name}", rg, as_parent)
    return Parent(sub=sub, rg=group.rg, location=doc["location"], ai_manager=doc)


def namespace(emu: Any, sub: str, rg: str, manager: str, name: str, *,
              as_parent: bool = True) -> Parent:
    """The namespace with its AI manager; 404 like ``ai_manager``."""
    found = ai_manager(emu, sub, rg, manager)
    doc = emu.store.get(NAMESPACES, key(sub, rg, manager, name))
    if doc is None:
        raise _missing(f"{PROVIDER}/aiManagers/{manager}/namespaces/{name}", rg, as_parent)
    return Parent(sub=sub, rg=found.rg, location=found.location, ai_manager=found.ai_manager,
                  namespace=doc)


def _missing(type_and_name: str, rg: str, as_parent: bool) -> ArmFailure:
    if as_parent:
        return ArmFailure(404, "ParentResourceNotFound",
                          f"Can not perform requested operation on nested resource. Parent "
                          f"resource '{type_and_name}' under resource group '{rg}' was not found.")
    return not_found(type_and_name, rg)


def not_found(type_and_name: str, rg: str) -> ArmFailure:
    """ARM's 404 ResourceNotFound for a resource that does not exist."""
    return ArmFailure(404, "ResourceNotFound",
                      f"The Resource '{type_and_name}' under resource group '{rg}' was not found.")


def rg_path(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}"


def manager_id(parent: Parent) -> str:
    return f"{rg_path(parent.sub, parent.rg)}/aiManagers/{parent.manager_name}"


def namespace_id(parent: Parent) -> str:
    return f"{manager_id(parent)}/namespaces/{parent.namespace_name}"


def system_data(now: float, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """ARM systemData: creation kept from ``previous``, modification set to ``now``."""
    stamp = lro.iso(now)
    created = previous or {"createdBy": CREATED_BY, "createdByType": "User", "createdAt": stamp}
    return {"createdBy": created["createdBy"], "createdByType": created["createdByType"],
            "createdAt": created["createdAt"], "lastModifiedBy": CREATED_BY,
            "lastModifiedByType": "User", "lastModifiedAt": stamp}


def check_preconditions(request: Request, current_etag: str | None) -> None:
    """412 PreconditionFailed when If-Match / If-None-Match do not hold (see http.py)."""
    answer = http.check_preconditions(request, current_etag)
    if answer is not None:
        raise ArmFailure(answer.status_code, "PreconditionFailed", "precondition failed", answer)


def check_child_name(name: str, what: str) -> None:
    """400 InvalidResourceName unless ``name`` is an RFC 1123 label of 1-63 characters."""
    if len(name) > 63 or not CHILD_NAME.match(name):
        raise bad_request("InvalidResourceName",
                          f"The {what} name '{name}' is invalid: use 1-63 lower-case letters, "
                          "digits and hyphens, starting and ending with a letter or digit.")


def validate(validator: Draft202012Validator, body: dict[str, Any],
             secret: tuple[str, ...] = ()) -> None:
    """400 InvalidParameter naming the field of the most relevant schema error, if any.

    Values at or under the ``secret`` path are never quoted back: error messages end up in
    logs, and a write-only credential must not.
    """
    error = best_match(validator.iter_errors(body))
    if error is None:
        return
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = next(p for p in error.validator_value if p not in error.instance)
        field = f"{path}.{missing}" if path else missing
        raise bad_request("InvalidParameter", f"The property '{field}' is required.")
    if secret and tuple(error.absolute_path)[:len(secret)] == secret:
        raise bad_request("InvalidParameter",
                          f"Invalid value for '{path}' (value not shown): expected "
                          f"{_expected(error)}.")
    raise bad_request("InvalidParameter", f"Invalid value for '{path or 'body'}': {error.message}.")


def _expected(error: Any) -> str:
    if error.validator == "type":
        return f"a value of type {error.validator_value}"
    if error.validator == "minLength":
        return "a non-empty string"
    return f"a value matching the schema ({error.validator})"


def etag_headers(doc: dict[str, Any]) -> dict[str, str]:
    """The ETag response header matching the body's ``eTag``."""
    return {"ETag": doc["eTag"]} if doc.get("eTag") else {}


def page(request: Request, items: list[dict[str, Any]]) -> Response:
    """One page of a list answer, sorted by name, with an absolute ``nextLink`` while more remain.

    The ``$skipToken`` is the (encoded) last name returned, so items created between two pages
    are neither skipped nor repeated.
    """
    size = _page_size(request)
    after = _decode_token(request.query_params.get("$skipToken"))
    ordered = sorted(items, key=lambda d: d["name"].lower())
    remaining = [d for d in ordered if d["name"].lower() > after] if after else ordered
    return _page_answer(request, remaining[:size], more=len(remaining) > size)


def stored_page(request: Request, store: Any, collection: str, prefix: str,
                view: Callable[[dict[str, Any]], dict[str, Any]],
                keep: Callable[[dict[str, Any]], bool] = lambda doc: True) -> Response:
    """``page`` over the documents of ``collection`` under the key ``prefix`` (whose keys are
    the prefix and the lower-cased name, so key order is ``page``'s order), reading only the
    page asked for: a collection of thousands is served page by page in constant time per
    page, as ARM does, instead of reading all of it for each. ``keep`` drops documents (a
    finished delete) as ``page``'s caller would have before; ``view`` makes the answer's item.
    """
    size = _page_size(request)
    start = prefix + _decode_token(request.query_params.get("$skipToken"))
    kept: list[dict[str, Any]] = []
    while len(kept) <= size:
        batch = store.list(collection, prefix, limit=size + 1, after=start)
        kept += [doc for doc in batch if keep(doc)]
        if len(batch) <= size:
            break
        start = prefix + batch[-1]["name"].lower()
    return _page_answer(request, [view(doc) for doc in kept[:size]], more=len(kept) > size)


def _page_answer(request: Request, items: list[dict[str, Any]], *, more: bool) -> Response:
    body: dict[str, Any] = {"value": items}
    if more:
        query = {"api-version": API_VERSION, "$skipToken": _encode_token(items[-1])}
        if "$top" in request.query_params:
            query["$top"] = str(len(items))
        body["nextLink"] = f"{base_url(request)}{request.url.path}?{urlencode(query)}"
    return json_response(body)


def _page_size(request: Request) -> int:
    top = request.query_params.get("$top")
    if top is None:
        return PAGE_SIZE
    if not top.isdigit() or int(top) < 1:
        raise bad_request("InvalidParameter", f"$top must be a positive integer, not '{top}'.")
    return min(int(top), PAGE_SIZE)


def _encode_token(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(doc["name"].lower().encode()).decode().rstrip("=")


def _decode_token(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("InvalidParameter", "The $skipToken is not valid.") from exc
