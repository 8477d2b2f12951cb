"""CustomModel: weights uploaded through a SAS URI, then registered in the custom-model registry.

The custom-model registry (``POST /custom-models``, ``GET /custom-models/{name}``, docs/emulator.md)
is not ARM:
the resource id is the registry path ``/custom-models/{name}`` and there is no ETag. The
comparable spec carries the content as ``weights: {sha256, size}`` (hashed locally by the CLI,
see ``ResolvedInputs.weights``) instead of the manifest's ``path``. Changed content under the
same version replaces the model (upload and register again); a new version with new content is
an update. When the registry does not echo the digest, the live side takes it from the state.
``deletePolicy`` and ``previousVersions`` are ours only (never sent).

Deployments name a custom model by its registry path with the version,
``custom-models/{name}/versions/{version}`` (docs/emulator.md, "Deploying custom models");
``deployed_model`` is the comparable ``model`` block both deployment kinds plan with.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.diff import ResourceDiff, SecretDigests, covers
from aimodels.plan.provider import (
    DEPLOYED_DIGEST,
    ExportContext,
    ExportedSpec,
    ListCollection,
    ProviderContext,
    WriterFamily,
)
from aimodels.plan.values import Reason
from aimodels.providers.base import FieldPolicy, ProviderBase, drop_server_computed, without_none

#: The registry has no api-version of its own yet (its paths are assumed ones).
API_VERSION = "seed-000"

#: The registry path of a custom model, its id in the state (``/custom-models/{name}``).
PATH_PREFIX = "/custom-models/"
#: The registry's collection of custom models, every version of every model (not ARM: no
#: api-version, no parent).
COLLECTION = ListCollection(PATH_PREFIX.rstrip("/"), "registry")
#: Where exported CustomModel manifests expect the weights, relative to the manifest.
WEIGHTS_DIR = "./weights"
#: How a deployment names a custom model: ``custom-models/{name}[/versions/{version}]`` (a custom
#: model's ``registry_path``); the leading ``/`` of ``PATH_PREFIX`` is optional when reading back.
REGISTRY_PATH = "custom-models/"

_REFERENCE = re.compile(r"^/?custom-models/([^/?#]+)(?:/versions/([^/?#]+))?/?$", re.IGNORECASE)


class CustomModelProvider(ProviderBase):
    """Maps CustomModel specs to registry bodies and back."""

    kind = CUSTOM_MODEL
    api_version = API_VERSION
    writer = WriterFamily.REGISTRY
    policy = FieldPolicy(
        server_computed=("name", "status", "created_at", "upload_id", "container", "blob_prefix",
                         "path", "file_count"),
        defaults={"deletePolicy": "Delete", "previousVersions": "Delete", "tags": {},
                  "description": ""},
        computed_if_unset=("weights", "format"),
        from_state=("weights", "deletePolicy", "previousVersions"),
    )

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        return custom_model_ref(address.name)

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        spec = desired.spec
        weights = ctx.inputs.weights.get(desired.address)
        detected = weights.format if weights else None
        return without_none({
            "version": _text(spec.get("version")),
            "format": spec.get("format") or detected,
            "description": spec.get("description"),
            "tags": dict(spec.get("tags") or {}),
            "weights": {"sha256": weights.sha256, "size": weights.size} if weights else None,
            "deletePolicy": spec.get("deletePolicy"),
            "previousVersions": spec.get("previousVersions"),
        })

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        weights = spec.get("weights") or {}
        return without_none({
            "name": address.name, "version": spec.get("version"), "format": spec.get("format"),
            "description": spec.get("description"), "tags": dict(spec.get("tags") or {}),
            "sha256": weights.get("sha256"), "size_bytes": weights.get("size"),
        })

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        kept = drop_server_computed(body, self.policy)
        weights = {"sha256": kept["sha256"], "size": kept.get("size_bytes")} \
            if kept.get("sha256") else None
        return without_none({
            "version": _text(kept.get("version")), "format": kept.get("format"),
            "description": kept.get("description"), "tags": kept.get("tags"),
            "weights": without_none(weights) if weights else None,
        })

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        found = super().diff(desired_spec, live_spec, ignore=ignore, secrets=secrets)
        warnings = found.warnings
        if "weights" not in desired_spec:
            warnings += ("the weights were not hashed, so their content was not compared",)
        paths = {c.path for c in found.field_changes}
        if "spec.weights.sha256" not in paths or "spec.version" in paths:
            return dataclasses.replace(found, warnings=warnings)
        return _content_replacement(found, warnings)

    def collection(self, address: ResourceAddress, resource_id: str) -> ListCollection:
        return COLLECTION

    def listed_id(self, body: Mapping[str, Any]) -> str:
        return custom_model_ref(str(body.get("name", "")))

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        """The weights are not downloaded: ``path`` (first) says where they are expected."""
        spec = self.from_live(body)
        weights = spec.pop("weights", None) or {}
        notes: tuple[str, ...] = (
            "weights are not downloaded: put the registered weights at this path (relative to "
            "this file)",
            "or point it at an https:// URL; validate, plan and import need them.")
        if weights:
            notes += (f"registered: sha256 {weights['sha256']}, {weights.get('size')} bytes",)
        return ExportedSpec({"path": weights_path(body), **spec}, {"path": notes})


def custom_model_ref(name: str) -> str:
    """The registry path of a custom model, used as its id (state, import)."""
    return f"{PATH_PREFIX}{name}"


def weights_path(body: Mapping[str, Any]) -> str:
    """Where an exported CustomModel expects its weights: ``./weights/<file>`` for a model
    registered from one file (the registry's path ends with its name), else
    ``./weights/<model name>`` (a folder)."""
    live_path = str(body.get("path") or "")
    if body.get("file_count") == 1 and live_path and not live_path.endswith("/"):
        return f"{WEIGHTS_DIR}/{PurePosixPath(live_path).name}"
    return f"{WEIGHTS_DIR}/{body.get('name')}"


def exported_model(spec: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """An exported deployment of a custom model names the model only: version (and format)
    come from the exported CustomModel (its newest version). The notes saying so."""
    model = spec.get("model") or {}
    if not model.get("custom"):
        return {}
    spec["model"] = {"custom": model["custom"]}
    return {"model": (f"the version ({model.get('version')}) comes from CustomModel/"
                      f"{model['custom']}, which must be declared too; to keep running "
                      "another version, add model.version.",)}


def registry_path(name: str, version: str | None = None) -> str:
    """What a deployment sends to name a custom model: ``custom-models/{name}`` and, given a
    version, ``/versions/{version}``."""
    return f"{REGISTRY_PATH}{name}" + (f"/versions/{version}" if version else "")


def parse_registry_path(reference: str | None) -> tuple[str, str | None] | None:
    """``(name, version)`` of a registry path (version None when it names none), or None when
    ``reference`` is not one (a catalog AIModel id, an ARM id)."""
    match = _REFERENCE.match(reference or "")
    return (match.group(1), match.group(2)) if match else None


def deployed_model(model: Mapping[str, Any], ctx: ProviderContext, *,
                   with_format: bool) -> dict[str, Any]:
    """The comparable ``model`` of a deployment of ``{custom: NAME, version?, format?}``.

    ``version`` defaults to what CustomModel/NAME of the manifests declares (an explicit one
    pins another registered version). ``sha256`` is the digest of that CustomModel's weights
    when the deployment runs the version the manifests declare, so changed weights under the
    same version change the deployment too. ``format`` (Foundry sends it) defaults to the
    CustomModel's, declared or detected.
    """
    name = str(model["custom"])
    declared = _declared(name, ctx)
    version = _text(model.get("version")) or (declared or {}).get("version")
    current = declared is not None and version == declared.get("version")
    digest = ((declared or {}).get("weights") or {}).get("sha256") if current else None
    fmt = (model.get("format") or (declared or {}).get("format")) if with_format else None
    return without_none({"custom": name, "version": version, "format": fmt, "sha256": digest})


def assume_same_digest(desired: Mapping[str, Any], live: Mapping[str, Any]) -> Mapping[str, Any]:
    """``live`` with the desired ``model.sha256`` when neither Azure nor the state knows which
    weights the deployment runs (imported, or applied before digests were recorded): unknown is
    taken as unchanged, never as a reason to redeploy."""
    wanted = (desired.get("model") or {}).get("sha256")
    held = live.get("model")
    if not wanted or not isinstance(held, Mapping) or "sha256" in held or \
            held.get("custom") != (desired.get("model") or {}).get("custom"):
        return live
    return {**live, "model": {**held, "sha256": wanted}}


def explain_new_weights(found: ResourceDiff, reason: Reason) -> ResourceDiff:
    """A deployment's diff with ``reason`` when it is new weights under the same model and
    version (its CustomModel is replaced): the digest is the only change of ``model`` and
    nothing else forces a replacement."""
    digest = f"spec.{DEPLOYED_DIGEST}"
    model = {c.path for c in found.field_changes if c.path.startswith("spec.model")}
    if model != {digest} or any(p != digest for p in found.replace_paths):
        return found
    return dataclasses.replace(found, reasons=(reason,))


def _declared(name: str, ctx: ProviderContext) -> dict[str, Any] | None:
    """CustomModel/NAME of the manifests, normalized, or None when it is not declared."""
    resource = ctx.desired.get(ResourceAddress(CUSTOM_MODEL, name))
    return CustomModelProvider().normalize(resource, ctx) if resource else None


def _content_replacement(found: ResourceDiff, warnings: tuple[str, ...]) -> ResourceDiff:
    """The same diff with the weights marked as forcing a replacement, for changed content."""
    changes = tuple(dataclasses.replace(c, forces_replacement=True)
                    if covers(("spec.weights",), c.path) else c for c in found.field_changes)
    replace_paths = tuple(sorted({*found.replace_paths,
                                  *(c.path for c in changes if c.forces_replacement)}))
    return dataclasses.replace(found, field_changes=changes, replace_paths=replace_paths,
                               reasons=(*found.reasons, Reason.REPLACE_BECAUSE_CONTENT_CHANGED),
                               warnings=warnings)


def _text(value: Any) -> str | None:
    """Versions are strings (``"1.0"``); YAML may have read an unquoted one as a number."""
    return None if value is None else str(value)
