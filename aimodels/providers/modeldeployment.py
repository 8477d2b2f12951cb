"""ModelDeployment: a model served on AKS AI Manager GPUs (an LRO on PUT/DELETE; docs/emulator.md).

ARM ``Microsoft.ContainerService/aiManagers/{m}/namespaces/{ns}/modelDeployments/{name}``.
A catalog model is sent as its AIModel id (name = first 16 hex of sha256(modelId)), a custom
model as its registry path with the version, ``custom-models/{name}/versions/{version}``
(the API's ``ModelReferenceResourceId`` admits a string). Going back, an AIModel id cannot be
un-hashed, so ``recognize`` (used by ``diff``, and by the planner for deletes against the spec
last applied) puts it back: when the live id's name is the hash of the known model id, the live
spec says those words; otherwise it shows the id Azure holds. PUT is a full replace.

A custom model's comparable ``model`` also carries the digest of the weights deployed
(``model.sha256``, from the state): the id is immutable and a PUT of the same id changes
nothing, so new weights under the same version replace the deployment, with
``replace_because_model_replaced``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimodels.model.address import ResourceAddress
from aimodels.model.arm import arm_id, arm_parents, catalog_model_id, catalog_model_name
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.kinds import CUSTOM_MODEL, MODEL_DEPLOYMENT, MODEL_SOURCE
from aimodels.plan.diff import ResourceDiff, SecretDigests, diff_specs
from aimodels.plan.provider import (
    DEPLOYED_DIGEST,
    ExportContext,
    ExportedSpec,
    ProviderContext,
    WriterFamily,
    spec_name,
)
from aimodels.plan.values import Reason
from aimodels.providers.base import (
    ARM_METADATA,
    FieldPolicy,
    ProviderBase,
    drop_default,
    drop_server_computed,
    without_none,
)
from aimodels.providers.custommodel import (
    assume_same_digest,
    deployed_model,
    explain_new_weights,
    exported_model,
    parse_registry_path,
    registry_path,
)

RP = "Microsoft.ContainerService"
API_VERSION = "2026-08-02-preview"

#: Fields whose change needs a new deployment, per api-version: the service answers
#: ``400 ImmutableField`` for modelResourceId, modelSourceResourceId and vmSize; the parents
#: are part of the id.
IMMUTABLE_BY_API_VERSION: dict[str, tuple[str, ...]] = {
    "2026-05-02-preview": ("aiManager", "namespace", "model", "modelSource", "vmSize"),
    "2026-08-02-preview": ("aiManager", "namespace", "model", "modelSource", "vmSize"),
}


class ModelDeploymentProvider(ProviderBase):
    """Maps ModelDeployment specs to ARM bodies and back."""

    kind = MODEL_DEPLOYMENT
    api_version = API_VERSION
    writer = WriterFamily.ARM
    policy = FieldPolicy(
        server_computed=(*ARM_METADATA, "eTag", "properties.provisioningState",
                         "properties.status"),
        immutable=IMMUTABLE_BY_API_VERSION[API_VERSION],
        defaults={"performanceMode": "Balanced", "scale": {"replicas": 1}, "overrides": {},
                  "scale.autoscale.minReplicas": 1},
        # Without maxReplicas the service derives one from the GPU quota.
        computed_if_unset=("scale.autoscale.maxReplicas", DEPLOYED_DIGEST),
        from_state=(DEPLOYED_DIGEST,),
    )

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        return arm_id(stack, RP, "aiManagers", spec.get("aiManager", ""), "namespaces",
                      spec.get("namespace", ""), "modelDeployments", address.name)

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        spec = desired.spec
        return without_none({
            "aiManager": spec.get("aiManager") or ctx.stack.ai_manager,
            "namespace": spec.get("namespace"),
            "model": _model_spec(spec.get("model") or {}, ctx),
            "modelSource": spec.get("modelSource"),
            "vmSize": spec.get("vmSize"),
            "performanceMode": spec.get("performanceMode"),
            "scale": _scale_spec(spec.get("scale")),
            "overrides": _overrides(spec.get("overrides")),
        })

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        found = []
        source = spec_name(spec, "modelSource")
        if source and not source.startswith("/"):
            found.append(ResourceAddress(MODEL_SOURCE, source))
        custom = spec_name(spec, "model", "custom")
        if custom:
            found.append(ResourceAddress(CUSTOM_MODEL, custom))
        return tuple(found)

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        return {"properties": without_none({
            "modelResourceId": _model_id(spec.get("model") or {}, ctx.stack),
            "modelSourceResourceId": _source_id(spec, ctx.stack),
            "vmSize": spec.get("vmSize"),
            "performanceMode": spec.get("performanceMode"),
            "scale": _scale_body(spec.get("scale")),
            "overrides": {"values": dict(spec["overrides"])} if "overrides" in spec else None,
        })}

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        props = drop_server_computed(body, self.policy).get("properties", {})
        parents = arm_parents(body.get("id", ""))
        return without_none({
            "aiManager": parents.get("aimanagers"),
            "namespace": parents.get("namespaces"),
            "model": _model_from_id(props.get("modelResourceId")),
            "modelSource": _source_name(props.get("modelSourceResourceId"), parents),
            "vmSize": props.get("vmSize"),
            "performanceMode": props.get("performanceMode"),
            "scale": _scale_from_live(props.get("scale")),
            "overrides": (props.get("overrides") or {}).get("values"),
        })

    def recognize(self, known_spec: Mapping[str, Any],
                  live_spec: Mapping[str, Any]) -> Mapping[str, Any]:
        return _recognize_model(known_spec, live_spec)

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        """A catalog model's AIModel id (a hash) is put back into its catalog name; a custom
        model is named only (``exported_model``)."""
        spec = self.from_live(body)
        drop_default(spec, "aiManager", ctx.stack.ai_manager)
        notes = exported_model(spec)
        model_id = (spec.get("model") or {}).get("catalog", "")
        if model_id.startswith("/"):
            known = ctx.catalog.get(model_id.rsplit("/", 1)[-1].lower())
            if known:
                spec["model"] = {"catalog": known}
            else:
                notes["model"] = ("not in the catalog of the Stack's region: replace the "
                                  "AIModel id with its publisher/model name.",)
        return ExportedSpec(spec, notes)

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        live = assume_same_digest(desired_spec, self.recognize(desired_spec, live_spec))
        found = diff_specs(desired_spec, live, self.policy, ignore=ignore, secrets=secrets)
        return explain_new_weights(found, Reason.REPLACE_BECAUSE_MODEL_REPLACED)


def _model_spec(model: Mapping[str, Any], ctx: ProviderContext) -> dict[str, Any]:
    """The comparable model: a catalog id as written, a custom model with its version and
    the digest of its weights (``deployed_model``)."""
    if model.get("custom"):
        return deployed_model(model, ctx, with_format=False)
    return dict(model)


def _scale_spec(scale: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not scale:
        return None
    if "autoscale" in scale:
        return {"autoscale": without_none(dict(scale["autoscale"]))}
    return {"replicas": scale.get("replicas")}


def _scale_body(scale: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not scale:
        return None
    if "autoscale" in scale:
        return {"autoscale": dict(scale["autoscale"])}
    return {"manual": {"replicas": scale["replicas"]}}


def _scale_from_live(scale: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not scale:
        return None
    if scale.get("autoscale") is not None:
        return {"autoscale": without_none(dict(scale["autoscale"]))}
    if scale.get("manual") is not None:
        return {"replicas": scale["manual"].get("replicas")}
    return dict(scale)


def _overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if overrides is None else dict(overrides)


def _model_id(model: Mapping[str, Any], stack: Stack) -> str | None:
    if model.get("custom"):
        return registry_path(model["custom"], model.get("version"))
    if model.get("catalog"):
        return catalog_model_id(stack, model["catalog"])
    return None


def _source_id(spec: Mapping[str, Any], stack: Stack) -> str | None:
    source = spec.get("modelSource")
    if not source or str(source).startswith("/"):
        return source
    return arm_id(stack, RP, "aiManagers", spec.get("aiManager", ""), "modelSources", source)


def _model_from_id(model_id: str | None) -> dict[str, Any] | None:
    """``{custom: name, version}`` for a registry path, else ``{catalog: <the AIModel id>}``."""
    if not model_id:
        return None
    custom = parse_registry_path(model_id)
    if custom is not None:
        return without_none({"custom": custom[0], "version": custom[1]})
    return {"catalog": model_id}


def _source_name(source_id: str | None, parents: Mapping[str, str]) -> str | None:
    """The ModelSource's name when it sits under this deployment's aiManager, else its id."""
    if not source_id:
        return None
    source_parents = arm_parents(source_id)
    same_manager = source_parents.get("aimanagers", "").lower() == \
        parents.get("aimanagers", "").lower()
    name = source_parents.get("modelsources")
    return name if name and same_manager else source_id


def _recognize_model(desired: Mapping[str, Any], live: Mapping[str, Any]) -> Mapping[str, Any]:
    """Live with the AIModel id put back into the desired words, when it provably is that model.

    Only the hash in the id's name is compared: the catalog may sit in another location or
    resource group (the contract treats the id as opaque).
    """
    wanted = (desired.get("model") or {}).get("catalog")
    held = (live.get("model") or {}).get("catalog")
    if not wanted or not held or not held.startswith("/"):
        return live
    if arm_parents(held).get("aimodels", "").lower() != catalog_model_name(wanted):
        return live
    return {**live, "model": {"catalog": wanted}}

