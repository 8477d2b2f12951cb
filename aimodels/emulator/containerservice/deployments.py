"""ModelDeployment routes: PUT (LRO: 201 Creating or 200 Updating, then Succeeded), GET, PATCH
(synchronous merge of scale, performanceMode and overrides), DELETE (LRO: 202, then gone) and
LIST by namespace with ``nextLink`` paging.

One write at a time per deployment: a write while an operation runs is 409 Conflict. Every write
gets a new ``eTag``; If-Match / If-None-Match are honoured. Progress is derived from timestamps
(``lro.py``), so nothing here sleeps and a restarted emulator finishes what an earlier one began.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.containerservice import arm
from aimodels.emulator.containerservice import deployment_spec as specs
from aimodels.emulator.containerservice.parents import namespace_endpoint
from aimodels.emulator.http import json_response, new_etag, no_content

DEPLOYMENT_TYPE = f"{arm.PROVIDER}/aiManagers/namespaces/modelDeployments"


def deployment_key(parent: arm.Parent, name: str) -> str:
    return arm.key(parent.sub, parent.rg, parent.manager_name, parent.namespace_name, name)


def live_deployment(emu: Any, parent: arm.Parent, name: str) -> dict[str, Any] | None:
    """The stored deployment, or None; one whose delete has finished is purged on the way."""
    doc: dict[str, Any] | None = emu.store.get(arm.MODEL_DEPLOYMENTS, deployment_key(parent, name))
    if doc is not None and lro.is_gone(doc, emu.now()):
        emu.store.delete(arm.MODEL_DEPLOYMENTS, deployment_key(parent, name))
        return None
    return doc


def view(emu: Any, request: Request, doc: dict[str, Any]) -> dict[str, Any]:
    """The deployment as clients see it now: provisioningState and ``status`` follow the LRO."""
    out = lro.public(doc, emu.now())
    props = out["properties"]
    state = props["provisioningState"]
    status = dict(props.get("status") or {})
    parts = doc["id"].split("/")
    status["endpoint"] = namespace_endpoint(request, parts[-5], parts[-3])
    serving = int(doc.get("_serving", 0))
    if state == "Creating":
        status = {k: status[k] for k in ("desiredReplicas", "estimatedProvisionTimeSeconds")}
        status["currentReplicas"] = 0
    elif state in ("Updating", "Failed"):
        status["currentReplicas"] = serving
    elif state == "Deleting":
        status["currentReplicas"] = 0
    if state == "Failed" and doc["_lro"].get("error"):
        status["provisioningError"] = dict(doc["_lro"]["error"])
    if not status.get("currentReplicas") and state != "Succeeded":
        status.pop("endpoint", None)
    props["status"] = status
    return out


def is_serving(emu: Any, request: Request, doc: dict[str, Any]) -> tuple[bool, int]:
    """(has it been provisioned and not being deleted, replicas ready) for inference routing."""
    current = view(emu, request, doc)["properties"]
    ready = current["provisioningState"] in ("Succeeded", "Updating")
    return ready, int(current["status"].get("currentReplicas", 0))


def _serving_before(emu: Any, existing: dict[str, Any] | None) -> int:
    """Replicas serving before a write: what keeps answering while an update rolls out."""
    if existing is None:
        return 0
    if lro.phase(existing, emu.now()) == "Succeeded":
        return int(existing["properties"]["status"]["desiredReplicas"])
    return int(existing.get("_serving", 0))


def _build(emu: Any, request: Request, found: arm.Parent, name: str, spec: specs.Spec,
           existing: dict[str, Any] | None) -> dict[str, Any]:
    endpoint = namespace_endpoint(request, found.manager_name, found.namespace_name)
    doc = {
        "id": f"{arm.namespace_id(found)}/modelDeployments/{name}",
        "name": existing["name"] if existing else name,
        "type": DEPLOYMENT_TYPE, "eTag": new_etag(),
        "systemData": arm.system_data(emu.now(), existing and existing["systemData"]),
        "properties": {**spec.properties, "status": specs.status_of(emu, spec, endpoint)},
        "_quota": {"location": found.location, "family": spec.vm.family, "gpus": spec.gpus},
        "_serving": _serving_before(emu, existing),
    }
    if spec.custom is not None:
        # The registration pulled (which upload): kept by PATCH, renewed by a create.
        doc["_customModel"] = (existing or {}).get("_customModel") or spec.custom
    return doc


def _not_busy(emu: Any, doc: dict[str, Any]) -> None:
    if lro.is_busy(doc, emu.now()):
        raise arm.ArmFailure(409, "Conflict",
                             f"Another operation is in progress on the model deployment "
                             f"'{doc['name']}' (provisioningState: "
                             f"{lro.phase(doc, emu.now())}); retry when it has finished.")


def _start(emu: Any, request: Request, found: arm.Parent, doc: dict[str, Any], kind: str,
           error: dict[str, str] | None = None) -> dict[str, str]:
    """Begin a ``kind`` LRO on ``doc`` (stored by the caller) and return its poll headers."""
    now, duration = emu.now(), emu.config.lro_seconds
    lro.begin(doc, kind, now, duration, error)
    ref = lro.ResourceRef(arm.MODEL_DEPLOYMENTS, deployment_key(found, doc["name"]),
                          doc["id"], arm.API_VERSION)
    op_id = lro.record_operation(emu.store, ref, kind, now, duration, found.location,
                                 arm.PROVIDER, error)
    doc["_op"] = op_id
    return lro.operation_headers(request, op_id, arm.PROVIDER, found.location, arm.API_VERSION)


def _parent(emu: Any, request: Request) -> arm.Parent:
    p = request.path_params
    return arm.namespace(emu, p["sub"], p["rg"], p["manager"], p["ns"])


def _existing(emu: Any, found: arm.Parent, name: str) -> dict[str, Any]:
    doc = live_deployment(emu, found, name)
    if doc is None:
        raise arm.not_found(f"{DEPLOYMENT_TYPE}/{name}", found.rg)
    return doc


async def put_deployment(emu: Any, request: Request) -> Response:
    """Create (201 Creating) or fully replace (200 Updating) a deployment; both are LROs."""
    name = request.path_params["name"]
    _parent(emu, request)
    arm.check_child_name(name, "model deployment")
    body = await arm.body_of(request)
    arm.validate(specs.PUT_SCHEMA, body)
    with emu.store.transaction():
        found = _parent(emu, request)
        existing = live_deployment(emu, found, name)
        arm.check_preconditions(request, existing["eTag"] if existing else None)
        props = specs.with_defaults(body["properties"])
        if existing is not None:
            _not_busy(emu, existing)
            specs.check_immutable(existing["properties"], props, specs.IMMUTABLE_FIELDS)
        spec = specs.resolve(emu, found, props, existing["id"] if existing else "")
        doc = _build(emu, request, found, name, spec, existing)
        headers = _start(emu, request, found, doc, "update" if existing else "create",
                         specs.reconcile_error(spec))
        emu.store.put(arm.MODEL_DEPLOYMENTS, deployment_key(found, name), doc)
    headers.update(arm.etag_headers(doc))
    return json_response(view(emu, request, doc), 200 if existing else 201, headers)


async def patch_deployment(emu: Any, request: Request) -> Response:
    """Merge scale, performanceMode and overrides synchronously (each replaced whole)."""
    name = request.path_params["name"]
    _parent(emu, request)
    body = await arm.body_of(request)
    arm.validate(specs.PATCH_SCHEMA, body)
    with emu.store.transaction():
        found = _parent(emu, request)
        existing = _existing(emu, found, name)
        arm.check_preconditions(request, existing["eTag"])
        _not_busy(emu, existing)
        changes = body.get("properties") or {}
        specs.check_immutable(existing["properties"], {**existing["properties"], **changes},
                              specs.IMMUTABLE_FIELDS)
        props = {k: v for k, v in existing["properties"].items() if k != "status"}
        props.update({k: changes[k] for k in specs.PATCHABLE_FIELDS if k in changes})
        spec = specs.resolve(emu, found, props, existing["id"])
        doc = _build(emu, request, found, name, spec, existing)
        doc["_lro"], doc["_op"] = existing.get("_lro"), existing.get("_op")
        if lro.phase(doc, emu.now()) == "Succeeded":
            doc["_serving"] = spec.desired_replicas
        emu.store.put(arm.MODEL_DEPLOYMENTS, deployment_key(found, name), doc)
    return json_response(view(emu, request, doc), 200, arm.etag_headers(doc))


async def get_deployment(emu: Any, request: Request) -> Response:
    doc = _existing(emu, _parent(emu, request), request.path_params["name"])
    return json_response(view(emu, request, doc), 200, arm.etag_headers(doc))


async def delete_deployment(emu: Any, request: Request) -> Response:
    """202 and a delete LRO; 204 when there is nothing; a repeated DELETE joins the running one."""
    with emu.store.transaction():
        found = _parent(emu, request)
        doc = live_deployment(emu, found, request.path_params["name"])
        arm.check_preconditions(request, doc["eTag"] if doc else None)
        if doc is None:
            return no_content(204)
        if (doc.get("_lro") or {}).get("kind") == "delete" and lro.is_busy(doc, emu.now()):
            return no_content(202, lro.operation_headers(
                request, doc["_op"], arm.PROVIDER, found.location, arm.API_VERSION))
        _not_busy(emu, doc)
        headers = _start(emu, request, found, doc, "delete")
        emu.store.put(arm.MODEL_DEPLOYMENTS, deployment_key(found, doc["name"]), doc)
    return no_content(202, headers)


async def list_deployments(emu: Any, request: Request) -> Response:
    found = _parent(emu, request)
    prefix = arm.key(found.sub, found.rg, found.manager_name, found.namespace_name) + "/"
    now = emu.now()
    return arm.stored_page(request, emu.store, arm.MODEL_DEPLOYMENTS, prefix,
                           lambda doc: view(emu, request, doc),
                           keep=lambda doc: not lro.is_gone(doc, now))


def routes(emu: Any) -> list[Route]:
    """PUT/GET/PATCH/DELETE of one model deployment and LIST by namespace."""
    base = arm.RG_PREFIX + "/aiManagers/{manager}/namespaces/{ns}/modelDeployments"
    return arm.routes_of(emu, [
        (base, "GET", list_deployments),
        (base + "/{name}", "GET", get_deployment),
        (base + "/{name}", "PUT", put_deployment),
        (base + "/{name}", "PATCH", patch_deployment),
        (base + "/{name}", "DELETE", delete_deployment),
    ])
