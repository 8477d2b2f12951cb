"""The parents every AI manager resource lives under: resource groups, AI managers and their
namespaces, seeded from fixtures or by ``seed_parents`` (the embedded ``target: local``); plus
each namespace's gateway endpoint and API keys (``listAccessInfo``).

The emulator does not create or delete AI managers or namespaces through ARM (they take an AKS
cluster in Azure); it serves GET and LIST on what was seeded.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable
from hashlib import sha256
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.containerservice import arm
from aimodels.emulator.containerservice.sizing import normalize_location
from aimodels.emulator.http import base_url, json_response, new_etag

DEFAULT_NAMESPACES = ("default", "dev", "staging", "prod")
AI_MANAGER_TYPE = f"{arm.PROVIDER}/aiManagers"
NAMESPACE_TYPE = f"{arm.PROVIDER}/aiManagers/namespaces"


def seed_parents(emu: Any, subscription: str, resource_group: str, location: str,
                 ai_manager: str, namespaces: Iterable[str] = DEFAULT_NAMESPACES) -> str:
    """Create the resource group, AI manager and namespaces a Stack names, when missing.

    Idempotent: what exists is left as it is (its location included). Returns the AI manager's
    resource id. This is how the embedded ``target: local`` makes a user's parents exist.
    """
    location = normalize_location(location)
    now = emu.now()
    with emu.store.transaction() as store:
        group_key = arm.key(subscription, resource_group)
        if store.get(arm.RESOURCE_GROUPS, group_key) is None:
            store.put(arm.RESOURCE_GROUPS, group_key, {
                "subscriptionId": subscription, "name": resource_group, "location": location})
        group = store.get(arm.RESOURCE_GROUPS, group_key) or {}
        parent = arm.Parent(sub=subscription, rg=group["name"], location=location)
        manager = _ensure_manager(store, parent, ai_manager, now)
        parent = arm.Parent(sub=subscription, rg=group["name"], location=manager["location"],
                            ai_manager=manager)
        for name in namespaces:
            _ensure_namespace(store, parent, name, now)
    return str(manager["id"])


def seed_fixtures(emu: Any) -> None:
    """Seed every AI manager of fixture ``containerService.aiManagers`` (idempotent)."""
    for entry in emu.fixtures.get("containerService.aiManagers", []):
        seed_parents(emu, entry["subscriptionId"], entry["resourceGroup"], entry["location"],
                     entry["name"], entry.get("namespaces", DEFAULT_NAMESPACES))


def _ensure_manager(store: Any, parent: arm.Parent, name: str, now: float) -> dict[str, Any]:
    manager_key = arm.key(parent.sub, parent.rg, name)
    found = store.get(arm.AI_MANAGERS, manager_key)
    if found is not None:
        return dict(found)
    doc = {
        "id": f"{arm.rg_path(parent.sub, parent.rg)}/aiManagers/{name}",
        "name": name, "type": AI_MANAGER_TYPE, "location": parent.location, "tags": {},
        "systemData": arm.system_data(now), "eTag": new_etag(),
        "identity": {"type": "SystemAssigned", "principalId": _stable_uuid(manager_key),
                     "tenantId": "00000000-0000-0000-0000-000000000000"},
        "properties": {"deletePolicy": "Keep",
                       "managedResourceGroupName": f"AIM_{parent.rg}_{name}_{parent.location}"},
    }
    store.put(arm.AI_MANAGERS, manager_key, doc)
    return doc


def _ensure_namespace(store: Any, parent: arm.Parent, name: str, now: float) -> None:
    ns_key = arm.key(parent.sub, parent.rg, parent.manager_name, name)
    if store.get(arm.NAMESPACES, ns_key) is not None:
        return
    store.put(arm.NAMESPACES, ns_key, {
        "id": f"{arm.manager_id(parent)}/namespaces/{name}",
        "name": name, "type": NAMESPACE_TYPE, "location": parent.location,
        "systemData": arm.system_data(now), "eTag": new_etag(),
        "properties": {"labels": {}, "annotations": {}, "adoptionPolicy": "Never",
                       "deletePolicy": "Keep"},
    })


def _stable_uuid(seed: str) -> str:
    return str(uuid.UUID(bytes=sha256(seed.encode()).digest()[:16], version=4))


def namespace_endpoint(request: Request, manager: str, namespace: str) -> str:
    """The OpenAI-compatible base URL of a namespace's gateway, at the emulator's origin."""
    return f"{base_url(request)}/inference/{manager}/{namespace}/v1"


def access_keys(emu: Any, namespace_doc: dict[str, Any]) -> tuple[str, str]:
    """(primary, secondary) keys of a namespace: random-looking, stable for a given --seed."""
    secret = f"aimodels-emulator/{emu.config.seed}".encode()
    ns_id = namespace_doc["id"].lower()
    primary, secondary = (hmac.new(secret, f"{ns_id}#{slot}".encode(), sha256).hexdigest()[:32]
                          for slot in ("primary", "secondary"))
    return primary, secondary


async def list_managers(emu: Any, request: Request) -> Response:
    """AI managers of a resource group."""
    group = arm.resource_group(emu, request.path_params["sub"], request.path_params["rg"])
    docs = emu.store.list(arm.AI_MANAGERS, arm.key(group.sub, group.rg) + "/")
    return arm.page(request, [_view(d, emu) for d in docs])


async def list_managers_in_subscription(emu: Any, request: Request) -> Response:
    """AI managers of a subscription, every resource group."""
    sub = request.path_params["sub"]
    arm.subscription(emu, sub)
    docs = emu.store.list(arm.AI_MANAGERS, arm.key(sub) + "/")
    return arm.page(request, [_view(d, emu) for d in docs])


async def get_manager(emu: Any, request: Request) -> Response:
    p = request.path_params
    found = arm.ai_manager(emu, p["sub"], p["rg"], p["manager"], as_parent=False)
    return _json(_view(found.ai_manager or {}, emu))


async def list_namespaces(emu: Any, request: Request) -> Response:
    p = request.path_params
    found = arm.ai_manager(emu, p["sub"], p["rg"], p["manager"])
    docs = emu.store.list(arm.NAMESPACES, arm.key(found.sub, found.rg, found.manager_name) + "/")
    return arm.page(request, [_view(d, emu) for d in docs])


async def get_namespace(emu: Any, request: Request) -> Response:
    p = request.path_params
    found = arm.namespace(emu, p["sub"], p["rg"], p["manager"], p["ns"], as_parent=False)
    return _json(_view(found.namespace or {}, emu))


async def list_access_info(emu: Any, request: Request) -> Response:
    """The namespace gateway's endpoint and keys (the API's NamespaceAccessInfo)."""
    p = request.path_params
    found = arm.namespace(emu, p["sub"], p["rg"], p["manager"], p["ns"], as_parent=False)
    doc = found.namespace or {}
    primary, secondary = access_keys(emu, doc)
    return json_response({
        "endpoint": namespace_endpoint(request, found.manager_name, found.namespace_name),
        "primaryKey": primary, "secondaryKey": secondary,
        "lastRotatedAt": doc["systemData"]["createdAt"],
    })


def routes(emu: Any) -> list[Route]:
    """GET/LIST of AI managers and namespaces, and POST listAccessInfo."""
    manager = arm.RG_PREFIX + "/aiManagers/{manager}"
    table = [
        (arm.SUB_PREFIX + "/aiManagers", "GET", list_managers_in_subscription),
        (arm.RG_PREFIX + "/aiManagers", "GET", list_managers),
        (manager, "GET", get_manager),
        (manager + "/namespaces", "GET", list_namespaces),
        (manager + "/namespaces/{ns}", "GET", get_namespace),
        (manager + "/namespaces/{ns}/listAccessInfo", "POST", list_access_info),
    ]
    return arm.routes_of(emu, table)


def _view(doc: dict[str, Any], emu: Any) -> dict[str, Any]:
    return lro.public(doc, emu.now())


def _json(doc: dict[str, Any]) -> Response:
    return json_response(doc, headers=arm.etag_headers(doc))
