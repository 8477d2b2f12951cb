"""Foundry deployments (``accounts/{a}/deployments``): PUT, PATCH and DELETE as LROs, GET, LIST.

Shapes and status codes follow azure-contracts.md §1.3–1.4 and the real material of
tests/fixtures/azure, in one of two modes (``EmulatorConfig.fidelity``):

- ``headers``: PUT answers 201 (create) or 200 (replace) with the body and an absolute
  Azure-AsyncOperation at ``…/locations/{l}/operationResults/{id}`` (the URL Cognitive Services
  gives), PATCH and DELETE 202 with it; the status resource says Creating, Accepted or Deleting,
  then Succeeded; Retry-After-Ms keeps pollers fast.
- ``recorded``: as the live recordings and the PutDeployment example: PUT 201/200 with no LRO
  header and ``provisioningState: Accepted``, then Creating (or Accepted, for an update) on GET
  until it succeeds; DELETE 200 with no body, the deployment gone at once; PATCH as above.

The provisioningState is never ``Updating`` (not a DeploymentProvisioningState). ``etag``
changes on every write, but like the real service the emulator ignores If-Match/If-None-Match on
deployments (the API declares neither), so clients compare the ETag of a GET made just before
writing.
Each write runs inside a store transaction, so the per-account "one write at a time" rule and the
quota sums hold across threads and across processes sharing a ``--data`` directory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator import lro
from aimodels.emulator.cognitiveservices.catalog import usage_name
from aimodels.emulator.cognitiveservices.common import (
    API_VERSION,
    DEPLOYMENTS,
    PROVIDER,
    RG_SCOPE,
    find_account,
    key_of,
    paged,
    versioned,
)
from aimodels.emulator.cognitiveservices.rules import (
    Desired,
    check_account_idle,
    check_deprecating,
    check_name,
    check_quota,
    check_sku,
    parse_put,
    resolve_model,
)
from aimodels.emulator.http import (
    arm_error,
    json_object,
    json_response,
    new_etag,
    no_content,
    read_json,
)

DEPLOYMENT_TYPE = f"{PROVIDER}/accounts/deployments"


@dataclass(frozen=True, slots=True)
class Target:
    """The account a deployment request addresses, and the deployment's name and store key."""

    account: dict[str, Any]
    account_key: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.account_key}/{self.name.lower()}"

    @property
    def location(self) -> str:
        return str(self.account["location"])


def _target(emu: Any, request: Request) -> Target | Response:
    p = request.path_params
    account = find_account(emu, p["sub"], p["rg"], p["account"])
    if isinstance(account, Response):
        return account
    return Target(account, key_of(p["sub"], p["rg"], p["account"]), p.get("deployment", ""))


async def _target_and_body(emu: Any,
                           request: Request) -> tuple[Target, dict[str, Any]] | Response:
    """What a write addresses, and its JSON body (or the error answer for either)."""
    target = _target(emu, request)
    if isinstance(target, Response):
        return target
    body = await read_json(request)
    if isinstance(body, Response):
        return body
    return target, body


def _live(emu: Any, key: str, now: float) -> dict[str, Any] | None:
    """The stored deployment unless absent or deleted by a finished delete operation."""
    doc: dict[str, Any] | None = emu.store.get(DEPLOYMENTS, key)
    return None if doc is None or lro.is_gone(doc, now) else doc


def _not_found(target: Target) -> Response:
    resource = f"{target.account['id']}/deployments/{target.name}"
    return arm_error(404, "NotFound", f"Specified resource '{resource}' cannot be found.")


def _sub_of(target: Target) -> str:
    return str(target.account["id"]).split("/")[2]


def _write(emu: Any, target: Target, desired: Desired, existing: dict[str, Any] | None,
           now: float) -> dict[str, Any] | Response:
    """Validate a create/replace/update against catalog, quota and account lock; the new doc."""
    entry = resolve_model(emu, target.location, desired)
    if isinstance(entry, Response):
        return entry
    error = check_deprecating(emu, _sub_of(target), entry, existing, now)
    if error:
        return error
    if existing and existing["properties"]["model"]["name"].lower() != entry["name"].lower():
        return arm_error(400, "InvalidResourceProperties",
                         "The model name of an existing account deployment cannot be "
                         "changed; delete the deployment and create it again.")
    capacity = check_sku(entry, target.location, desired.sku_name, desired.capacity)
    if isinstance(capacity, Response):
        return capacity
    error = check_account_idle(emu, target.account, target.account_key, now) or check_quota(
        emu, _sub_of(target), target.location, entry, desired.sku_name, capacity, existing, now)
    if error:
        return error
    return _document(target, entry, desired, capacity, existing, now)


def _document(target: Target, entry: dict[str, Any], desired: Desired, capacity: int,
              existing: dict[str, Any] | None, now: float) -> dict[str, Any]:
    name = existing["name"] if existing else target.name
    stamp = lro.iso(now)
    created = (existing or {}).get("systemData") or {
        "createdBy": "aimodels-emulator", "createdByType": "Application", "createdAt": stamp}
    doc: dict[str, Any] = {
        "id": f"{target.account['id']}/deployments/{name}", "name": name, "type": DEPLOYMENT_TYPE,
        "etag": new_etag(), "sku": {"name": desired.sku_name, "capacity": capacity},
        "systemData": {**created, "lastModifiedBy": "aimodels-emulator",
                       "lastModifiedByType": "Application", "lastModifiedAt": stamp},
        "properties": {
            "model": {k: entry[k] for k in ("format", "name", "version", "source") if k in entry},
            "versionUpgradeOption": desired.upgrade_option, "raiPolicyName": desired.rai_policy,
            "capabilities": dict(entry.get("capabilities") or {}),
            "rateLimits": [
                {"key": "request", "renewalPeriod": 10.0, "count": float(capacity)},
                {"key": "token", "renewalPeriod": 60.0, "count": float(capacity * 1000)}],
            "callRateLimit": {"count": float(capacity), "renewalPeriod": 10.0},
            "currentCapacity": capacity, "dynamicThrottlingEnabled": False,
        },
        "_key": target.key, "_location": target.location,
        "_usageName": usage_name(entry, desired.sku_name),
    }
    if desired.tags is not None:
        doc["tags"] = desired.tags
    if "_customModel" in entry:
        # The registration pulled: every write of a Foundry deployment provisions it again.
        doc["_customModel"] = entry["_customModel"]
    return doc


#: What a deployment shows while an operation runs (DeploymentProvisioningState has no Updating).
_RUNNING = {"create": "Creating", "update": "Accepted", "delete": "Deleting"}


def _recorded(emu: Any) -> bool:
    return bool(emu.config.fidelity == "recorded")


def _begin(emu: Any, request: Request, target: Target, doc: dict[str, Any], kind: str,
           now: float) -> dict[str, str]:
    """Store ``doc`` under a ``kind`` operation and return the operation headers."""
    duration = emu.config.lro_seconds
    lro.begin(doc, kind, now, duration, running=_RUNNING[kind])
    emu.store.put(DEPLOYMENTS, target.key, doc)
    ref = lro.ResourceRef(DEPLOYMENTS, target.key, doc["id"], API_VERSION)
    op_id = lro.record_operation(emu.store, ref, kind, now, duration, target.location, PROVIDER,
                                 running=_RUNNING[kind], results="status")
    return lro.status_headers(request, op_id, PROVIDER, target.location, API_VERSION)


async def put_deployment(emu: Any, request: Request) -> Response:
    found = await _target_and_body(emu, request)
    if isinstance(found, Response):
        return found
    target, body = found
    desired = parse_put(body)
    if isinstance(desired, Response):
        return desired
    error = check_name(target.name)
    if error:
        return error
    with emu.store.transaction():
        now = emu.now()
        existing = _live(emu, target.key, now)
        doc = _write(emu, target, desired, existing, now)
        if isinstance(doc, Response):
            return doc
        headers = _begin(emu, request, target, doc, "update" if existing else "create", now)
    answer = lro.public(doc, now)
    if _recorded(emu):  # the PutDeployment example: Accepted, and no LRO header at all
        headers = {}
        answer["properties"]["provisioningState"] = "Accepted"
    headers["ETag"] = doc["etag"]  # as the recordings: the body's etag, and the header too
    return json_response(answer, 200 if existing else 201, headers)


def _patched(existing: dict[str, Any], body: dict[str, Any]) -> Desired:
    """The deployment ``existing`` with the sku and tags of a PATCH body applied."""
    props, model = existing["properties"], existing["properties"]["model"]
    sku = {**existing["sku"], **json_object(body.get("sku"))}
    desired = Desired(str(sku.get("name")), sku.get("capacity"), model["format"], model["name"],
                      model["version"], props["raiPolicyName"], props["versionUpgradeOption"],
                      existing.get("tags"), model.get("source"))
    if isinstance(body.get("tags"), dict):
        desired = replace(desired, tags=body["tags"])
    return desired


async def patch_deployment(emu: Any, request: Request) -> Response:
    found = await _target_and_body(emu, request)
    if isinstance(found, Response):
        return found
    target, body = found
    with emu.store.transaction():
        now = emu.now()
        existing = _live(emu, target.key, now)
        if existing is None:
            return _not_found(target)
        doc = _write(emu, target, _patched(existing, body), existing, now)
        if isinstance(doc, Response):
            return doc
        headers = _begin(emu, request, target, doc, "update", now)
    return no_content(202, headers)


async def delete_deployment(emu: Any, request: Request) -> Response:
    target = _target(emu, request)
    if isinstance(target, Response):
        return target
    with emu.store.transaction():
        now = emu.now()
        existing = _live(emu, target.key, now)
        if existing is None:
            return no_content(204)
        error = check_account_idle(emu, target.account, target.account_key, now)
        if error:
            return error
        if _recorded(emu):  # the recording: 200, no body, no header, gone at once
            emu.store.delete(DEPLOYMENTS, target.key)
            return no_content(200)
        headers = _begin(emu, request, target, existing, "delete", now)
    return no_content(202, headers)


async def get_deployment(emu: Any, request: Request) -> Response:
    target = _target(emu, request)
    if isinstance(target, Response):
        return target
    now = emu.now()
    doc = _live(emu, target.key, now)
    if doc is None:
        return _not_found(target)
    return json_response(lro.public(doc, now), headers={"ETag": doc["etag"]})


async def list_deployments(emu: Any, request: Request) -> Response:
    target = _target(emu, request)
    if isinstance(target, Response):
        return target
    now = emu.now()
    docs = [lro.public(d, now) for d in emu.store.list(DEPLOYMENTS, target.account_key + "/")
            if not lro.is_gone(d, now)]
    return json_response(paged(request, emu, docs))


def routes(emu: Any) -> list[Route]:
    """Deployment routes of an account."""
    by_method = {"GET": get_deployment, "PUT": put_deployment, "PATCH": patch_deployment,
                 "DELETE": delete_deployment}

    async def one(request: Request) -> Response:
        return await by_method[request.method](emu, request)

    async def many(request: Request) -> Response:
        return await list_deployments(emu, request)

    base = RG_SCOPE + "/accounts/{account}/deployments"
    return [
        Route(base, versioned(many), methods=["GET"]),
        Route(base + "/{deployment}", versioned(one), methods=list(by_method)),
    ]
