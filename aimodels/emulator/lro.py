"""Long-running operations derived from timestamps, so they survive restarts of the process.

A resource being created, updated or deleted carries ``_lro = {kind, started, duration, error,
running?}``. Its visible provisioningState is computed on every read from the clock: non-terminal
(``running``, else Creating/Updating/Deleting) until ``started + duration``, then Succeeded (or
Failed with ``error``); a finished delete makes the resource disappear. An operation document
(collection ``operations``) points at the resource, and the generic status routes answer from
it: ``operationStatuses`` is an Azure-AsyncOperation status resource; ``operationResults`` is a
Location (202 until done, then the result), except for operations recorded with
``results="status"``, which answer a status resource there too, as Cognitive Services does
(tests/fixtures/azure: its Azure-AsyncOperation URLs are ``…/operationResults/{id}``). Routes
never sleep: clients poll, as with Azure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator.http import arm_error, base_url, json_response, no_content

#: How often clients should poll; small so tests and demos stay fast (Retry-After: 0 means 30 s
#: to azure-core, so we always send the millisecond header).
POLL_INTERVAL_MS = 50

_RUNNING_STATE = {"create": "Creating", "update": "Updating", "delete": "Deleting"}


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """Where a resource lives in the store, and the ARM URL path that GETs it."""

    collection: str
    key: str
    path: str
    api_version: str


def iso(ts: float) -> str:
    """A UTC ISO-8601 timestamp, as ARM writes them."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def begin(doc: dict[str, Any], kind: str, now: float, duration: float,
          error: dict[str, str] | None = None, running: str | None = None) -> None:
    """Mark ``doc`` as being under a ``kind`` operation (create, update or delete) from ``now``;
    ``running`` is the provisioningState it shows meanwhile (default Creating, Updating or
    Deleting: a provider whose states differ names its own)."""
    doc["_lro"] = {"kind": kind, "started": now, "duration": duration, "error": error}
    if running:
        doc["_lro"]["running"] = running


def phase(doc: dict[str, Any], now: float) -> str:
    """The provisioningState the resource shows at ``now``."""
    lro = doc.get("_lro")
    if not lro:
        return "Succeeded"
    if now < lro["started"] + lro["duration"]:
        return str(lro.get("running") or _RUNNING_STATE[lro["kind"]])
    return "Failed" if lro.get("error") else "Succeeded"


def is_gone(doc: dict[str, Any], now: float) -> bool:
    """True once a delete operation on ``doc`` has finished."""
    lro = doc.get("_lro")
    return bool(lro and lro["kind"] == "delete" and phase(doc, now) == "Succeeded")


def is_busy(doc: dict[str, Any], now: float) -> bool:
    """True while an operation on ``doc`` is still running."""
    lro = doc.get("_lro")
    if not lro:
        return False
    return bool(now < lro["started"] + lro["duration"])


def public(doc: dict[str, Any], now: float) -> dict[str, Any]:
    """The document as clients see it: internal ``_`` keys dropped, provisioningState current."""
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    props = dict(out.get("properties") or {})
    props["provisioningState"] = phase(doc, now)
    out["properties"] = props
    return out


def record_operation(store: Any, ref: ResourceRef, kind: str, now: float, duration: float,
                     location: str, provider: str, error: dict[str, str] | None = None,
                     running: str | None = None, results: str = "location") -> str:
    """Store an operation document for ``ref`` and return its id. ``running`` is the status
    its status resource shows until it ends (default InProgress); ``results="status"`` makes
    ``operationResults`` answer a status resource too (see the module docstring)."""
    op_id = str(uuid.uuid4())
    store.put("operations", op_id, {
        "id": op_id, "kind": kind, "started": now, "duration": duration, "error": error,
        "location": location, "provider": provider, "running": running, "results": results,
        "resource": {"collection": ref.collection, "key": ref.key, "path": ref.path,
                     "api_version": ref.api_version},
    })
    return op_id


def operation_headers(request: Request, op_id: str, provider: str, location: str,
                      api_version: str) -> dict[str, str]:
    """Absolute Azure-AsyncOperation and Location URLs for an operation, plus Retry-After-Ms."""
    root = f"{base_url(request)}/subscriptions/{request.path_params.get('sub', '')}" \
           f"/providers/{provider}/locations/{location}"
    query = f"?api-version={api_version}"
    return {
        "Azure-AsyncOperation": f"{root}/operationStatuses/{op_id}{query}",
        "Location": f"{root}/operationResults/{op_id}{query}",
        "Retry-After-Ms": str(POLL_INTERVAL_MS),
        "x-ms-retry-after-ms": str(POLL_INTERVAL_MS),
    }


def status_headers(request: Request, op_id: str, provider: str, location: str,
                   api_version: str) -> dict[str, str]:
    """An absolute Azure-AsyncOperation at ``…/operationResults/{id}`` (Cognitive Services'
    shape: no Location), plus Retry-After-Ms."""
    headers = operation_headers(request, op_id, provider, location, api_version)
    return {"Azure-AsyncOperation": headers.pop("Location"),
            **{k: v for k, v in headers.items() if k != "Azure-AsyncOperation"}}


def routes(emu: Any) -> list[Route]:
    """The generic operation status routes shared by every resource provider."""
    prefix = "/subscriptions/{sub}/providers/{provider}/locations/{location}"

    async def status(request: Request) -> Response:
        op = _operation(emu, request)
        if op is None:
            return _not_found(request)
        now = emu.now()  # once: a second reading could see the end the body did not
        return json_response(_status_body(op, now), headers=_poll_headers(op, now))

    async def result(request: Request) -> Response:
        op = _operation(emu, request)
        if op is None:
            return _not_found(request)
        now = emu.now()
        if op.get("results") == "status":
            return json_response(_status_body(op, now), headers=_poll_headers(op, now))
        if now < op["started"] + op["duration"]:
            return no_content(202, _poll_headers(op, now))
        if op.get("error"):
            return arm_error(400, op["error"]["code"], op["error"]["message"])
        if op["kind"] == "delete":
            return no_content(204)
        doc = emu.store.get(op["resource"]["collection"], op["resource"]["key"])
        if doc is None:
            return no_content(204)
        return json_response(public(doc, now))

    return [
        Route(prefix + "/operationStatuses/{op}", status, methods=["GET"]),
        Route(prefix + "/operationResults/{op}", result, methods=["GET"]),
    ]


def _operation(emu: Any, request: Request) -> dict[str, Any] | None:
    """The operation the URL names, if it exists under that subscription, provider and
    location (an operation id from another subscription is as unknown as a made-up one)."""
    p = request.path_params
    op = emu.store.get("operations", p["op"].lower())
    if op is None:
        return None
    sub = op["resource"]["path"].split("/")[2]
    same = (sub.lower() == p["sub"].lower() and op["provider"].lower() == p["provider"].lower()
            and op["location"].lower() == p["location"].lower())
    return op if same else None


def _not_found(request: Request) -> Response:
    return arm_error(404, "OperationNotFound",
                     f"The operation '{request.path_params['op']}' was not found.")


def _status_body(op: dict[str, Any], now: float) -> dict[str, Any]:
    done = now >= op["started"] + op["duration"]
    running = op.get("running") or "InProgress"
    status = running if not done else ("Failed" if op.get("error") else "Succeeded")
    if op.get("results") == "status":  # the recorded Cognitive Services shape
        sub = op["resource"]["path"].split("/")[2]
        body: dict[str, Any] = {
            "id": f"/subscriptions/{sub}/providers/{op['provider']}/locations/{op['location']}"
                  f"/operationResults/{op['id']}",
            "name": op["id"], "status": status, "startTime": iso(op["started"])}
    else:
        body = {
            "id": f"/providers/{op['provider']}/locations/{op['location']}"
                  f"/operationStatuses/{op['id']}",
            "name": op["id"], "status": status, "startTime": iso(op["started"]),
            "percentComplete": 100.0 if done else round(
                100.0 * (now - op["started"]) / max(op["duration"], 1e-9), 1),
        }
    if done:
        body["endTime"] = iso(op["started"] + op["duration"])
    if done and op.get("error"):
        body["error"] = dict(op["error"])
    return body


def _poll_headers(op: dict[str, Any], now: float) -> dict[str, str]:
    if now >= op["started"] + op["duration"]:
        return {}
    return {"Retry-After-Ms": str(POLL_INTERVAL_MS), "x-ms-retry-after-ms": str(POLL_INTERVAL_MS)}
