"""Deploying a registered custom model: how each deployment family names one, and the checks
both make before accepting the write.

- A ModelDeployment's ``properties.modelResourceId`` is the registry path
  ``custom-models/{name}/versions/{version}`` (the API's ``ModelReferenceResourceId`` admits a
  string; a custom model's ``registry_path`` is ``custom-models/{name}``, and the ``/versions/``
  segment is how Azure ML asset ids pin a version). ``custom-models/{name}`` alone deploys the
  newest version, as ``registry_path`` alone says; a leading ``/`` is accepted.
- A FoundryDeployment's ``properties.model`` is ``{format, name, version, source}`` with
  ``source: custom-models/{name}`` (as ``az cognitiveservices account deployment create
  --model-name --model-version --model-format safetensors --model-source``).

The model and version must be registered (400 ``CustomModelNotFound``) and ``Ready`` (400
``CustomModelNotReady``). The registry records no parameter count or context length, so a
custom model is sized from its weights (``BYTES_PER_PARAMETER`` by format) and given
``ASSUMED_CONTEXT_LENGTH``.
"""

from __future__ import annotations

import re
from typing import Any

from aimodels.emulator.containerservice import sizing
from aimodels.emulator.registry import newest, registered_versions

#: How a registry path starts, without its optional leading ``/``.
REGISTRY_PREFIX = "custom-models/"
#: Bytes each parameter takes on disk, by weights format: fp16 for the tensor formats, and
#: about one byte for GGUF (usually 8-bit or less).
BYTES_PER_PARAMETER = {"safetensors": 2, "pytorch": 2, "onnx": 2, "gguf": 1}
#: The context length a custom model is served with (the registry does not record one).
ASSUMED_CONTEXT_LENGTH = 32768
#: What a Foundry deployment of a custom model may ask for: these SKUs in the account's region.
FOUNDRY_SKUS = ("Standard", "GlobalStandard")
FOUNDRY_CAPACITY = {"minimum": 1, "maximum": 100, "step": 1, "default": 1}

_PATH = re.compile(r"^/?custom-models/([^/?#]+)(?:/versions/([^/?#]+))?/?$", re.IGNORECASE)


class CustomModelError(Exception):
    """A deployment names a custom model the registry cannot serve: ``code`` is the ARM code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_registry_path(reference: str | None) -> bool:
    """Whether ``reference`` points into the custom-model registry (well formed or not)."""
    return bool(reference) and str(reference).lstrip("/").lower().startswith(REGISTRY_PREFIX)


def parse_registry_path(reference: str) -> tuple[str, str | None]:
    """``(name, version)`` of a registry path (version None: the newest);
    ``InvalidModelResourceId`` when it is malformed."""
    match = _PATH.match(reference)
    if match is None:
        raise CustomModelError("InvalidModelResourceId",
                               f"'{reference}' is not a custom model reference: expected "
                               "custom-models/{name}/versions/{version} (or custom-models/{name} "
                               "for the newest version).")
    return match.group(1), match.group(2)


def registered_model(emu: Any, name: str, version: str | None) -> dict[str, Any]:
    """The registration a deployment would run: that version, or the newest; 400
    ``CustomModelNotFound`` / ``CustomModelNotReady`` otherwise."""
    docs = registered_versions(emu, name, version)
    if not docs:
        what = f"version '{version}' of custom model '{name}'" if version else \
            f"custom model '{name}'"
        raise CustomModelError("CustomModelNotFound",
                               f"The {what} is not registered: register it (POST /custom-models) "
                               "before the deployment that uses it.")
    doc = newest(docs)
    if str(doc.get("status", "")).lower() != "ready":
        raise CustomModelError("CustomModelNotReady",
                               f"Version '{doc['version']}' of custom model '{doc['name']}' is "
                               f"{doc.get('status')}, not Ready: wait for its registration to "
                               "finish, or register it again.")
    return doc


def deployed(doc: dict[str, Any]) -> dict[str, Any]:
    """What a deployment records of the registration it serves (which upload, which digest)."""
    return {"name": doc["name"], "version": doc["version"], "sha256": doc.get("sha256"),
            "uploadId": doc["upload_id"]}


def as_catalog_model(doc: dict[str, Any]) -> sizing.CatalogModel:
    """A registration in the shape the AI manager sizes deployments with."""
    size = int(doc.get("size_bytes") or 0)
    per_parameter = BYTES_PER_PARAMETER.get(str(doc.get("format")), 2)
    return sizing.CatalogModel(
        model_id=f"{REGISTRY_PREFIX}{doc['name']}/versions/{doc['version']}",
        description=str(doc.get("description") or ""), license="", is_restricted=False,
        max_context_length=ASSUMED_CONTEXT_LENGTH,
        parameter_count=max(1, size // per_parameter), size_bytes=size)


def foundry_entry(doc: dict[str, Any], location: str) -> dict[str, Any]:
    """A registration as a Foundry model entry (the catalog's shape), offered in ``location``
    only, able to chat."""
    skus = {sku: {"capacity": dict(FOUNDRY_CAPACITY), "regions": [location]}
            for sku in FOUNDRY_SKUS}
    return {"format": doc["format"], "name": doc["name"], "version": doc["version"],
            "source": f"{REGISTRY_PREFIX}{doc['name']}", "capabilities": {"chatCompletion": "true"},
            "skus": skus, "_customModel": deployed(doc)}
