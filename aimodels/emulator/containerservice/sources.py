"""ModelSource routes: synchronous PUT (create 201 / replace 200), GET, PATCH, DELETE and LIST
under an AI manager, with ETags (If-Match / If-None-Match) and an immutable ``sourceType``.

The inline credential is write-only, as its TypeSpec visibility says: we keep only a SHA-256
digest of it (enough to know one was given) and never echo it in a response or an error. An
inline value starting with ``hf_noaccess`` stands for a token whose account was not granted a
gated model (Hugging Face answers 403 for it): a deployment of a gated model through such a
source fails while pulling the weights, which no pre-flight can foresee.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.containerservice import arm
from aimodels.emulator.http import json_response, new_etag, no_content

SOURCE_TYPE = f"{arm.PROVIDER}/aiManagers/modelSources"
SOURCE_TYPES = ("HuggingFace", "MicrosoftFoundry")
_IDENTITY_ID = (r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                r"Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$")
_PROJECT_ID = (r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
               r"Microsoft\.CognitiveServices/accounts/[^/]+/projects/[^/]+$")
_PROPERTIES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sourceType": {"type": "string", "enum": list(SOURCE_TYPES)},
        "description": {"type": "string", "maxLength": 1024},
        "credential": {"type": "object", "properties": {
            "inline": {"type": "object", "required": ["value"],
                       "properties": {"value": {"type": "string", "minLength": 1}}},
            "managedIdentity": {"type": "object", "required": ["resourceId"], "properties": {
                "resourceId": {"type": "string", "pattern": _IDENTITY_ID}}},
            "keyVault": {"type": "object", "required": ["secretUri"], "properties": {
                "secretUri": {"type": "string", "pattern": "^https://"}}},
        }},
        "microsoftFoundry": {"type": "object", "required": ["projectResourceId"], "properties": {
            "projectResourceId": {"type": "string", "pattern": _PROJECT_ID}}},
    },
}
_PUT = Draft202012Validator({
    "type": "object", "required": ["properties"],
    "properties": {"properties": {**_PROPERTIES, "required": ["sourceType"]}},
})
_PATCH = Draft202012Validator({"type": "object", "properties": {"properties": _PROPERTIES}})
_SECRET = ("properties", "credential")


def source_key(sub: str, rg: str, manager: str, name: str) -> str:
    return arm.key(sub, rg, manager, name)


def find_source(emu: Any, resource_id: str) -> dict[str, Any] | None:
    """The model source a full resource id names, if it exists (ids compare case-insensitively)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    shape = ["subscriptions", "resourcegroups", "providers", "microsoft.containerservice",
             "aimanagers", "modelsources"]
    if len(parts) != 10 or [lowered[i] for i in (0, 2, 4, 5, 6, 8)] != shape:
        return None
    doc: dict[str, Any] | None = emu.store.get(
        arm.MODEL_SOURCES, source_key(parts[1], parts[3], parts[7], parts[9]))
    return doc


#: Inline credential values that stand for a token without access to gated models.
NO_ACCESS_PREFIX = "hf_noaccess"


def has_credential(source: dict[str, Any]) -> bool:
    """True when the source can authenticate (a secret, an identity or a Key Vault reference)."""
    return bool((source.get("properties") or {}).get("credential"))


def lacks_access(source: dict[str, Any]) -> bool:
    """True when the source's inline token is one without access (``NO_ACCESS_PREFIX``)."""
    return bool(source.get("_credentialNoAccess"))


def _check_rules(props: dict[str, Any]) -> None:
    """Rules the schema cannot say: which credential kinds go with which source type."""
    credential = props.get("credential")
    if credential is not None and len(credential) != 1:
        raise arm.bad_request("InvalidParameter",
                              "Specify exactly one of 'properties.credential.inline', "
                              "'properties.credential.managedIdentity' or "
                              "'properties.credential.keyVault'.")
    if props["sourceType"] == "MicrosoftFoundry":
        if "microsoftFoundry" not in props:
            raise arm.bad_request("InvalidParameter", "The property "
                                  "'properties.microsoftFoundry' is required when sourceType is "
                                  "MicrosoftFoundry.")
        if not credential or "managedIdentity" not in credential:
            raise arm.bad_request("InvalidParameter", "A MicrosoftFoundry source authenticates "
                                  "with 'properties.credential.managedIdentity' only.")
        return
    if "microsoftFoundry" in props:
        raise arm.bad_request("InvalidParameter", "'properties.microsoftFoundry' must be omitted "
                              f"when sourceType is {props['sourceType']}.")
    if credential and "managedIdentity" in credential:
        raise arm.bad_request("InvalidParameter", "A HuggingFace source authenticates with "
                              "'properties.credential.inline' (a token), not a managed identity.")


def _check_immutable(existing: dict[str, Any] | None, props: dict[str, Any]) -> None:
    if existing is None:
        return
    before = existing["properties"]
    for field in ("sourceType", "microsoftFoundry"):
        if field in props and props.get(field) != before.get(field):
            raise arm.bad_request("ImmutableField",
                                  f"The property 'properties.{field}' of a model source cannot "
                                  f"be changed (from {before.get(field)!r} to "
                                  f"{props.get(field)!r}); delete and recreate the source.")


def _stored(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(properties as stored and returned, what we keep of the inline secret if any: its
    digest, and whether it is a token without access)."""
    kept: dict[str, Any] = {k: copy.deepcopy(props[k]) for k in
            ("sourceType", "description", "credential", "microsoftFoundry") if k in props}
    inline = (kept.get("credential") or {}).get("inline")
    if inline is None:
        return kept, {}
    secret = {"_credentialSha256": hashlib.sha256(inline["value"].encode()).hexdigest(),
              "_credentialNoAccess": inline["value"].startswith(NO_ACCESS_PREFIX)}
    kept["credential"] = {"inline": {}}
    return kept, secret


def _write(emu: Any, found: arm.Parent, name: str, props: dict[str, Any],
           existing: dict[str, Any] | None, secret: dict[str, Any]) -> dict[str, Any]:
    doc = {
        "id": f"{arm.manager_id(found)}/modelSources/{name}",
        "name": existing["name"] if existing else name,
        "type": SOURCE_TYPE, "eTag": new_etag(),
        "systemData": arm.system_data(emu.now(), existing and existing["systemData"]),
        "properties": props,
        **secret,
    }
    emu.store.put(arm.MODEL_SOURCES, source_key(found.sub, found.rg, found.manager_name, name), doc)
    return doc


def _in_use(emu: Any, doc: dict[str, Any]) -> str | None:
    """The name of a deployment still using the source (deleting ones included), if any."""
    now = emu.now()
    for deployment in emu.store.list(arm.MODEL_DEPLOYMENTS):
        ref = (deployment.get("properties") or {}).get("modelSourceResourceId") or ""
        if ref.lower() == doc["id"].lower() and not lro.is_gone(deployment, now):
            return str(deployment["id"])
    return None


def _locate(emu: Any, request: Request) -> tuple[arm.Parent, str, dict[str, Any] | None]:
    """(parent AI manager, source name, stored source or None) of a request."""
    p = request.path_params
    found = arm.ai_manager(emu, p["sub"], p["rg"], p["manager"])
    doc = emu.store.get(arm.MODEL_SOURCES, source_key(p["sub"], p["rg"], p["manager"], p["name"]))
    return found, p["name"], doc


async def put_source(emu: Any, request: Request) -> Response:
    """Create (201) or fully replace (200) a model source."""
    _locate(emu, request)
    arm.check_child_name(request.path_params["name"], "model source")
    body = await arm.body_of(request)
    arm.validate(_PUT, body, secret=_SECRET)
    with emu.store.transaction():
        found, name, existing = _locate(emu, request)
        arm.check_preconditions(request, existing["eTag"] if existing else None)
        _check_immutable(existing, body["properties"])
        _check_rules(body["properties"])
        props, secret = _stored(body["properties"])
        doc = _write(emu, found, name, props, existing, secret)
    return _answer(emu, doc, 200 if existing else 201)


async def patch_source(emu: Any, request: Request) -> Response:
    """Merge the given properties (a given credential replaces the old one whole)."""
    _locate(emu, request)
    body = await arm.body_of(request)
    arm.validate(_PATCH, body, secret=_SECRET)
    with emu.store.transaction():
        found, name, existing = _locate(emu, request)
        if existing is None:
            raise arm.not_found(f"{SOURCE_TYPE}/{name}", found.rg)
        arm.check_preconditions(request, existing["eTag"])
        changes = body.get("properties") or {}
        _check_immutable(existing, changes)
        _check_rules({**existing["properties"], **changes})
        props, secret = _stored(changes)
        if "credential" not in changes:
            secret = {k: v for k, v in existing.items() if k.startswith("_credential")}
        doc = _write(emu, found, name, {**existing["properties"], **props}, existing, secret)
    return _answer(emu, doc, 200)


async def get_source(emu: Any, request: Request) -> Response:
    found, name, doc = _locate(emu, request)
    if doc is None:
        raise arm.not_found(f"{SOURCE_TYPE}/{name}", found.rg)
    return _answer(emu, doc, 200)


async def delete_source(emu: Any, request: Request) -> Response:
    """200 when deleted, 204 when there was nothing; 409 while a deployment uses it."""
    with emu.store.transaction():
        found, name, doc = _locate(emu, request)
        arm.check_preconditions(request, doc["eTag"] if doc else None)
        if doc is None:
            return no_content(204)
        user = _in_use(emu, doc)
        if user:
            raise arm.ArmFailure(409, "ModelSourceInUse",
                                 f"The model source '{doc['name']}' is used by the model "
                                 f"deployment '{user}'; delete that deployment first.")
        emu.store.delete(arm.MODEL_SOURCES,
                         source_key(found.sub, found.rg, found.manager_name, name))
    return json_response({}, 200)


async def list_sources(emu: Any, request: Request) -> Response:
    p = request.path_params
    found = arm.ai_manager(emu, p["sub"], p["rg"], p["manager"])
    now = emu.now()
    return arm.stored_page(request, emu.store, arm.MODEL_SOURCES,
                           arm.key(found.sub, found.rg, found.manager_name) + "/",
                           lambda doc: lro.public(doc, now))


def routes(emu: Any) -> list[Route]:
    """PUT/GET/PATCH/DELETE of one model source and LIST by AI manager."""
    base = arm.RG_PREFIX + "/aiManagers/{manager}/modelSources"
    return arm.routes_of(emu, [
        (base, "GET", list_sources),
        (base + "/{name}", "GET", get_source),
        (base + "/{name}", "PUT", put_source),
        (base + "/{name}", "PATCH", patch_source),
        (base + "/{name}", "DELETE", delete_source),
    ])


def _answer(emu: Any, doc: dict[str, Any], status: int) -> Response:
    view = lro.public(doc, emu.now())
    return json_response(view, status, headers=arm.etag_headers(view))
