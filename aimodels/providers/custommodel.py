"""CustomModel: weights uploaded through a SAS URI, then registered in the custom-model registry.

The registry of seed 000 (``POST /custom-models``, ``GET /custom-models/{name}``) is not ARM:
the resource id is the registry path ``/custom-models/{name}`` and there is no ETag. The
comparable spec carries the content as ``weights: {sha256, size}`` (hashed locally by the CLI,
see ``ResolvedInputs.weights``) instead of the manifest's ``path``. Changed content under the
same version replaces the model (upload and register again); a new version with new content is
an update. When the registry does not echo the digest, the live side takes it from the state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.diff import ResourceDiff, SecretDigests, covers
from aimodels.plan.values import Reason
from aimodels.providers.base import (
    FieldPolicy,
    ProviderBase,
    ProviderContext,
    drop_server_computed,
    without_none,
)

#: The registry has no api-version of its own yet (seed 000 marks its paths as assumed).
API_VERSION = "seed-000"

#: What the CLI sends as the reference to a custom model where an id is expected.
PATH_PREFIX = "/custom-models/"


class CustomModelProvider(ProviderBase):
    """Maps CustomModel specs to registry bodies and back."""

    kind = CUSTOM_MODEL
    api_version = API_VERSION
    policy = FieldPolicy(
        server_computed=("name", "status", "created_at", "upload_id", "container", "blob_prefix",
                         "path", "file_count"),
        defaults={"deletePolicy": "Delete", "tags": {}, "description": ""},
        computed_if_unset=("weights", "format"),
        from_state=("weights", "deletePolicy"),
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


def custom_model_ref(name: str) -> str:
    """The registry path of a custom model, used as its id and as the reference to it."""
    return f"{PATH_PREFIX}{name}"


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
