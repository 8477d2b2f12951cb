"""Emulator routes: the custom-model registry at its root paths (the "FDP API", docs/emulator.md).

    POST   /datastore/upload/initialize   a SAS URI for one upload's folder in the uploads container
    GET    /datastore/list-sas            a read+list SAS for the whole uploads container;
                                          ?permissions=rdl also lets it delete (uploads prune)
    POST   /custom-models                 register an upload as {name, version}; ``overwrite``
                                          swaps an existing version for the new upload
    GET    /custom-models                 list (?name=, paging with $top and nextLink)
    GET    /custom-models/{name}          the latest version, or ?version=
    DELETE /custom-models/{name}          all versions, or ?version=; ?keep_weights=true keeps blobs

Each upload gets a virtual folder ``{model_name}/{upload_id}/`` in the ``uploads`` container and
a *container* SAS (read, create, write, list): Azure cannot scope a SAS to a prefix except with a
directory SAS on hierarchical-namespace accounts, so real services use a per-upload folder by
convention, and so do we. Registration looks only under that folder. Bodies are validated with
jsonschema; errors are ``{"error": {"code", "message"}}``. The bearer token is checked by the
app's middleware.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator.blob.account import UNAVAILABLE, UploadAccount, account_for
from aimodels.emulator.http import arm_error, base_url, json_response, read_json

#: The container every upload goes to (paths read ``uploads/<model>/<file>``).
UPLOADS_CONTAINER = "uploads"
#: Upload SAS permissions: read, create, write, list (no delete: cleanup is the registry's job).
UPLOAD_PERMISSIONS = "rcwl"
LIST_PERMISSIONS = "rl"
#: What a list SAS may be asked to allow (``?permissions=``), in Azure's canonical order:
#: read, delete, list. Delete is for cleaning up orphaned uploads (``aimodels uploads prune``).
LIST_SAS_ALLOWED = "rdl"
LIST_SAS_SECONDS = 3600
#: Seed 000's rule: 1.5 x (size / speed), at least 30 minutes, at most 24 hours. The speed is a
#: slow 20 MiB/s so that the seed's table (10-50 GB: 1 h, 200+ GB: 4 h) is always covered.
SAS_MIN_SECONDS = 30 * 60
SAS_MAX_SECONDS = 24 * 3600
SAS_ASSUMED_BYTES_PER_SECOND = 20 * 1024 * 1024
#: A requested lifetime (``sas_lifetime_seconds``) must lie within these bounds.
SAS_REQUEST_BOUNDS = (60, SAS_MAX_SECONDS)
#: Allowance for clients whose clock runs behind ours (Azure's usual advice for ``st``).
CLOCK_SKEW_SECONDS = 300
PAGE_SIZE = 100

_UPLOADS, _MODELS = "reg.uploads", "reg.models"
_NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_FORMATS = ["safetensors", "gguf", "onnx", "pytorch"]

INITIALIZE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["model_name", "file_size", "format"],
    "properties": {
        "model_name": {"type": "string", "pattern": _NAME},
        "file_size": {"type": "integer", "minimum": 0},
        "format": {"enum": _FORMATS},
        "file_name": {"type": "string", "minLength": 1, "maxLength": 512,
                      "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\x00-\x1f\\]+$"},
        "sas_lifetime_seconds": {"type": "integer", "minimum": SAS_REQUEST_BOUNDS[0],
                                 "maximum": SAS_REQUEST_BOUNDS[1]},
    },
}

REGISTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "version", "upload_id"],
    "properties": {
        "name": {"type": "string", "pattern": _NAME},
        "version": {"type": "string", "pattern": _NAME},
        "upload_id": {"type": "string", "minLength": 1},
        "format": {"enum": _FORMATS},
        "description": {"type": "string", "maxLength": 1024},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "size_bytes": {"type": "integer", "minimum": 0},
        "overwrite": {"type": "boolean"},
        "keep_weights": {"type": "boolean"},
    },
}


def routes(emu: Any) -> list[Route]:
    """The registry's routes, bound to ``emu``."""
    registry = Registry(emu)
    return [
        Route("/datastore/upload/initialize", _guarded(registry.initialize), methods=["POST"]),
        Route("/datastore/list-sas", _guarded(registry.list_sas), methods=["GET"]),
        Route("/custom-models", _guarded(registry.register), methods=["POST"]),
        Route("/custom-models", registry.list_models, methods=["GET"]),
        Route("/custom-models/{name}", registry.show, methods=["GET"]),
        Route("/custom-models/{name}", _guarded(registry.delete), methods=["DELETE"]),
    ]


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
    """``handler`` with a blob account that cannot be reached (an external Azurite that is down)
    answered as 502 ``BlobStoreUnavailable`` rather than a traceback."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except UNAVAILABLE as exc:
            return arm_error(502, "BlobStoreUnavailable",
                             f"The blob store behind the registry did not answer: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

    return run


def registered_versions(emu: Any, name: str, version: str | None = None) -> list[dict[str, Any]]:
    """The registrations of custom model ``name`` (any case): every version, or only
    ``version``. What the deployment families read to deploy a custom model."""
    if version is not None:
        doc = emu.store.get(_MODELS, _model_key(name, version))
        return [doc] if doc else []
    return list(emu.store.list(_MODELS, f"{name.lower()}/"))


def newest(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The most recently registered of ``docs`` (what ``GET /custom-models/{name}`` shows)."""
    return max(docs, key=lambda d: (d["_created"], d["version"]))


def sas_lifetime(file_size: int) -> int:
    """Seconds an upload SAS lives for a file of ``file_size`` bytes (docs/emulator.md)."""
    estimate = 1.5 * file_size / SAS_ASSUMED_BYTES_PER_SECOND
    return int(min(max(estimate, SAS_MIN_SECONDS), SAS_MAX_SECONDS))


class Registry:
    """The registry's handlers; state lives in the store (``reg.uploads``, ``reg.models``)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.account: UploadAccount = account_for(emu)

    async def initialize(self, request: Request) -> Response:
        body, error = await _validated(request, INITIALIZE_SCHEMA)
        if error is not None:
            return error
        now = int(self.emu.now())
        lifetime = body.get("sas_lifetime_seconds") or sas_lifetime(body["file_size"])
        upload_id = uuid.uuid4().hex
        prefix = f"{body['model_name']}/{upload_id}/"
        await run_in_threadpool(self.account.ensure_container, UPLOADS_CONTAINER)
        token = await run_in_threadpool(self.account.sas, UPLOADS_CONTAINER, UPLOAD_PERMISSIONS,
                                        now - CLOCK_SKEW_SECONDS, now + lifetime)
        upload = {"upload_id": upload_id, "model_name": body["model_name"],
                  "file_name": body.get("file_name"), "file_size": body["file_size"],
                  "format": body["format"], "container": UPLOADS_CONTAINER,
                  "blob_prefix": prefix, "created_at": _iso(now),
                  "expires_at": _iso(now + lifetime)}
        self.emu.store.put(_UPLOADS, upload_id, upload)
        return json_response({**upload, **self._sas_uris(request, prefix, upload, token)})

    async def list_sas(self, request: Request) -> Response:
        asked = request.query_params.get("permissions", LIST_PERMISSIONS)
        if not asked or set(asked) - set(LIST_SAS_ALLOWED):
            return arm_error(400, "InvalidQueryParameter",
                             f"permissions must be letters of '{LIST_SAS_ALLOWED}' (read, "
                             f"delete, list), not '{asked}'.")
        permissions = "".join(p for p in LIST_SAS_ALLOWED if p in asked)
        now = int(self.emu.now())
        await run_in_threadpool(self.account.ensure_container, UPLOADS_CONTAINER)
        token = await run_in_threadpool(self.account.sas, UPLOADS_CONTAINER, permissions,
                                        now - CLOCK_SKEW_SECONDS, now + LIST_SAS_SECONDS)
        container_url = self._container_url(request)
        return json_response({"sas_uri": f"{container_url}?{token}",
                              "account_url": self.account.account_url(base_url(request)),
                              "container": UPLOADS_CONTAINER,
                              "expires_at": _iso(now + LIST_SAS_SECONDS)})

    async def register(self, request: Request) -> Response:
        body, error = await _validated(request, REGISTER_SCHEMA)
        if error is not None:
            return error
        upload = self.emu.store.get(_UPLOADS, body["upload_id"])
        if upload is None:
            return arm_error(400, "UploadNotFound", f"Upload '{body['upload_id']}' does not exist: "
                             "call POST /datastore/upload/initialize first.")
        blobs = await run_in_threadpool(self.account.blobs, upload["container"],
                                        upload["blob_prefix"])
        total = sum(b.size for b in blobs)
        problem = _upload_problem(upload, blobs, body.get("size_bytes"), total)
        if problem is not None:
            return problem
        model = _model_doc(body, upload, blobs, total, self.emu.now())
        with self.emu.store.transaction():
            replaced = self.emu.store.get(_MODELS, _doc_key(model))
            conflict = self._conflict(body, upload, replaced)
            if conflict is not None:
                return conflict
            self.emu.store.put(_MODELS, _doc_key(model), model)
        if replaced is None:
            return json_response(_public(model), 201)
        # Seed 000's --overwrite: the version now names the new upload. The old upload's blobs
        # go after the swap (a failure leaves them orphaned, never the version missing).
        if not body.get("keep_weights") and replaced["upload_id"] != upload["upload_id"]:
            await run_in_threadpool(self.account.delete_blobs, replaced["container"],
                                    replaced["blob_prefix"])
        return json_response(_public(model), 200)

    async def list_models(self, request: Request) -> Response:
        query = request.query_params
        name = query.get("name")
        prefix = f"{name.lower()}/" if name else ""
        after = query.get("$skiptoken", "")
        try:
            top = max(1, min(int(query.get("$top", PAGE_SIZE)), PAGE_SIZE))
        except ValueError:
            return arm_error(400, "InvalidQueryParameter", "$top must be an integer.")
        docs = [d for d in self.emu.store.list(_MODELS, prefix) if _doc_key(d) > after]
        page = docs[:top]
        body: dict[str, Any] = {"value": [_public(d) for d in page]}
        if len(docs) > top:
            params = {k: v for k, v in query.items() if k != "$skiptoken"}
            params["$skiptoken"] = _doc_key(page[-1])
            body["nextLink"] = f"{base_url(request)}/custom-models?{urlencode(params)}"
        return json_response(body)

    async def show(self, request: Request) -> Response:
        name = request.path_params["name"]
        version = request.query_params.get("version")
        docs = self._versions(name, version)
        if not docs:
            return _not_found(name, version)
        return json_response(_public(newest(docs)))

    async def delete(self, request: Request) -> Response:
        name = request.path_params["name"]
        version = request.query_params.get("version")
        keep = request.query_params.get("keep_weights", "false").lower() in ("true", "1", "yes")
        docs = self._versions(name, version)
        if not docs:
            return _not_found(name, version)
        for doc in docs:
            # Blobs first: if the blob store fails, the model stays registered and a retry works.
            if not keep:
                await run_in_threadpool(self.account.delete_blobs, doc["container"],
                                        doc["blob_prefix"])
            self.emu.store.delete(_MODELS, _doc_key(doc))
        return json_response({"name": docs[0]["name"],
                              "deleted_versions": [d["version"] for d in docs],
                              "weights_deleted": not keep})

    # -- helpers ----------------------------------------------------------------------------

    def _versions(self, name: str, version: str | None) -> list[dict[str, Any]]:
        return registered_versions(self.emu, name, version)

    def _conflict(self, body: dict[str, Any], upload: dict[str, Any],
                  replaced: dict[str, Any] | None) -> Response | None:
        if replaced is not None and not body.get("overwrite"):
            return arm_error(409, "ModelAlreadyExists",
                             f"Model '{body['name']}' version '{body['version']}' already exists. "
                             "Delete it first, register another version, or send "
                             "\"overwrite\": true to replace it.")
        for other in self.emu.store.list(_MODELS):
            # Re-registering the same upload as the version it already is (overwrite) is fine.
            if other["upload_id"] == upload["upload_id"] and \
                    _doc_key(other) != _model_key(body["name"], body["version"]):
                return arm_error(409, "UploadAlreadyRegistered",
                                 f"Upload '{upload['upload_id']}' is already registered as model "
                                 f"'{other['name']}' version '{other['version']}'.")
        return None

    def _container_url(self, request: Request) -> str:
        return f"{self.account.account_url(base_url(request))}/{UPLOADS_CONTAINER}"

    def _sas_uris(self, request: Request, prefix: str, upload: dict[str, Any],
                  token: str) -> dict[str, str]:
        """``sas_uri`` names the blob when a file name was given, else the container."""
        container_uri = f"{self._container_url(request)}?{token}"
        sas_uri = container_uri
        if upload["file_name"]:
            blob = quote(prefix + upload["file_name"], safe="/~")
            sas_uri = f"{self._container_url(request)}/{blob}?{token}"
        return {"sas_uri": sas_uri, "container_sas_uri": container_uri,
                "account_url": self.account.account_url(base_url(request))}


async def _validated(request: Request, schema: dict[str, Any]) -> tuple[Any, Response | None]:
    body = await read_json(request)
    if isinstance(body, Response):
        return None, body
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema)
                                               .iter_errors(body))
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "body"
        return None, arm_error(400, "InvalidRequestContent", f"{where}: {problem.message}")
    return body, None


def _upload_problem(upload: dict[str, Any], blobs: list[Any], size_bytes: int | None,
                    total: int) -> Response | None:
    where = f"{upload['container']}/{upload['blob_prefix']}"
    if not blobs:
        return arm_error(400, "UploadNotCommitted",
                         f"Upload '{upload['upload_id']}' has no committed blob under {where}: "
                         "upload the weights through the SAS URI first (staged blocks that were "
                         "never committed do not count).")
    if size_bytes is not None and size_bytes != total:
        return arm_error(400, "SizeMismatch",
                         f"size_bytes is {size_bytes} but the blobs under {where} hold {total} "
                         "bytes.")
    return None


def _model_doc(body: dict[str, Any], upload: dict[str, Any], blobs: list[Any], total: int,
               now: float) -> dict[str, Any]:
    prefix = upload["blob_prefix"]
    path = f"{upload['container']}/{blobs[0].name}" if len(blobs) == 1 else \
        f"{upload['container']}/{prefix}"
    return {"name": body["name"], "version": body["version"],
            "format": body.get("format", upload["format"]),
            "description": body.get("description", ""), "tags": body.get("tags", {}),
            "sha256": body.get("sha256"), "size_bytes": total, "upload_id": upload["upload_id"],
            "container": upload["container"], "blob_prefix": prefix, "path": path,
            "file_count": len(blobs), "status": "Ready", "created_at": _iso(now),
            "_created": now}


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _not_found(name: str, version: str | None) -> Response:
    what = f"Model '{name}' version '{version}'" if version else f"Model '{name}'"
    return arm_error(404, "ModelNotFound", f"{what} was not found in the registry.")


def _model_key(name: str, version: str) -> str:
    return f"{name.lower()}/{version.lower()}"


def _doc_key(doc: dict[str, Any]) -> str:
    return _model_key(doc["name"], doc["version"])


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
