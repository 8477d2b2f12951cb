"""What a ModelDeployment write asks for, checked the way the service checks it: the body schema,
defaults of a full-replace PUT, immutable fields, the scaling profile, the catalog model (or the
registered custom model, ``custom_models``) and model source it names, the VM size and GPU
quota; and the runtime ``status`` it leads to.

Everything here raises ``ArmFailure`` (400 with the service's codes) and writes nothing; the
routes in ``deployments`` decide when to call it and what to store.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator

from aimodels.emulator import custom_models
from aimodels.emulator.containerservice import arm, sizing
from aimodels.emulator.containerservice.sources import find_source, has_credential, lacks_access

PERFORMANCE_MODES = ("Balanced", "Latency", "Throughput")
IMMUTABLE_FIELDS = ("modelResourceId", "modelSourceResourceId", "vmSize")
#: Fields a PATCH may change; the others are immutable or read-only.
PATCHABLE_FIELDS = ("performanceMode", "scale", "overrides")
DEFAULT_SCALE = {"manual": {"replicas": 1}}
_MODEL_ID = re.compile(
    r"^/subscriptions/[^/]+/(?:providers/Microsoft\.ContainerService/locations/[^/]+|"
    r"resourceGroups/[^/]+/providers/Microsoft\.ContainerService)/aiModels/([^/]+)$",
    re.IGNORECASE)
_PROPERTIES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "modelResourceId": {"type": "string", "minLength": 1},
        "modelSourceResourceId": {"type": "string", "minLength": 1},
        "performanceMode": {"type": "string", "enum": list(PERFORMANCE_MODES)},
        "vmSize": {"type": "string", "minLength": 1},
        "scale": {"type": "object", "properties": {
            "manual": {"type": "object", "required": ["replicas"], "properties": {
                "replicas": {"type": "integer", "minimum": 0}}},
            "autoscale": {"type": "object", "required": ["minReplicas"], "properties": {
                "minReplicas": {"type": "integer", "minimum": 1},
                "maxReplicas": {"type": "integer", "minimum": 1}}},
        }},
        "overrides": {"type": "object", "properties": {
            "values": {"type": "object", "additionalProperties": {"type": "string"}}}},
    },
}
PUT_SCHEMA = Draft202012Validator({
    "type": "object", "required": ["properties"],
    "properties": {"properties": {**_PROPERTIES, "required": ["modelResourceId", "vmSize"]}},
})
PATCH_SCHEMA = Draft202012Validator({"type": "object", "properties": {"properties": _PROPERTIES}})


@dataclass(frozen=True, slots=True)
class Spec:
    """A checked deployment: the model, VM size and placement its properties resolve to.

    ``desired_replicas`` is what the controller aims for now; ``quota_replicas`` is the most it
    may reach (autoscale max), which is what GPU quota is charged for. ``custom`` is the
    registration of a custom model it deploys (``custom_models.deployed``), else None.
    """

    properties: dict[str, Any]
    model: sizing.CatalogModel
    vm: sizing.VmSize
    placement: sizing.Fit
    desired_replicas: int
    quota_replicas: int
    source: dict[str, Any] | None
    custom: dict[str, Any] | None = None

    @property
    def gpus(self) -> int:
        return self.quota_replicas * sizing.gpus_per_replica(self.vm, self.placement)


def with_defaults(props: dict[str, Any]) -> dict[str, Any]:
    """The writable properties of a full-replace PUT, omitted optional ones reset to defaults."""
    out: dict[str, Any] = {
        "modelResourceId": props["modelResourceId"],
        "performanceMode": props.get("performanceMode", "Balanced"),
        "vmSize": props["vmSize"],
        "scale": props.get("scale", DEFAULT_SCALE),
    }
    if props.get("modelSourceResourceId"):
        out["modelSourceResourceId"] = props["modelSourceResourceId"]
    if props.get("overrides") is not None:
        out["overrides"] = props["overrides"]
    return out


def check_immutable(before: dict[str, Any], after: dict[str, Any], fields: Any) -> None:
    """400 ImmutableField naming the first of ``fields`` whose value changes."""
    for field in fields:
        old, new = before.get(field) or "", after.get(field) or ""
        if old.lower() != new.lower():
            raise arm.bad_request("ImmutableField",
                                  f"The property 'properties.{field}' is immutable: it cannot "
                                  f"change from '{old}' to '{new}'. Delete the model deployment "
                                  "and create it again to change it.")


def replicas_of(scale: dict[str, Any]) -> tuple[int, int]:
    """(desired, quota) replicas of a scaling profile; 400 InvalidScalingProfile unless exactly
    one of manual/autoscale is set and min <= max."""
    if ("manual" in scale) == ("autoscale" in scale):
        raise arm.bad_request("InvalidScalingProfile",
                              "Set exactly one of 'properties.scale.manual' and "
                              "'properties.scale.autoscale'.")
    if "manual" in scale:
        replicas = int(scale["manual"]["replicas"])
        return replicas, replicas
    low = int(scale["autoscale"]["minReplicas"])
    high = int(scale["autoscale"].get("maxReplicas", low))
    if high < low:
        raise arm.bad_request("InvalidScalingProfile",
                              f"'properties.scale.autoscale.maxReplicas' ({high}) is below "
                              f"'minReplicas' ({low}).")
    return low, high


def catalog_model(emu: Any, resource_id: str) -> sizing.CatalogModel:
    """The AIModel ``resource_id`` names; 400 InvalidModelResourceId / ModelNotFound."""
    match = _MODEL_ID.match(resource_id)
    if match is None:
        raise arm.bad_request("InvalidModelResourceId",
                              f"'{resource_id}' is not an AIModel resource id: expected "
                              "/subscriptions/{sub}/providers/Microsoft.ContainerService/"
                              "locations/{location}/aiModels/{name}, or a custom model's "
                              "custom-models/{name}/versions/{version}.")
    model = sizing.find_model(emu.fixtures, unquote(match.group(1)))
    if model is None:
        raise arm.bad_request("ModelNotFound",
                              f"The AI model '{match.group(1)}' is not in the catalog; list "
                              "the catalog (aiModels) for the models that can be deployed.")
    return model


def deployed_model(emu: Any, resource_id: str) -> tuple[sizing.CatalogModel,
                                                       dict[str, Any] | None]:
    """The model ``modelResourceId`` names, and the custom registration when it is one; 400
    with the catalog's or the registry's code (``custom_models``) otherwise."""
    if not custom_models.is_registry_path(resource_id):
        return catalog_model(emu, resource_id), None
    try:
        name, version = custom_models.parse_registry_path(resource_id)
        doc = custom_models.registered_model(emu, name, version)
    except custom_models.CustomModelError as exc:
        raise arm.bad_request(exc.code, exc.message) from None
    return custom_models.as_catalog_model(doc), custom_models.deployed(doc)


def model_source(emu: Any, resource_id: str | None) -> dict[str, Any] | None:
    """The model source ``resource_id`` names (None when not given); 400 when it is missing."""
    if not resource_id:
        return None
    source = find_source(emu, resource_id)
    if source is None:
        raise arm.bad_request("ModelSourceNotFound",
                              f"The model source '{resource_id}' does not exist; create it "
                              "before the deployment that uses it.")
    return source


def vm_size(emu: Any, name: str, location: str) -> sizing.VmSize:
    """The VM size, if known and offered in ``location``; 400 SkuNotAvailable otherwise."""
    vm = sizing.find_vm_size(emu.fixtures, name)
    if vm is None:
        known = ", ".join(v.name for v in sizing.vm_sizes(emu.fixtures))
        raise arm.bad_request("SkuNotAvailable",
                              f"The VM size '{name}' is not a GPU size supported for model "
                              f"deployments. Supported sizes: {known}.")
    if sizing.normalize_location(location) not in vm.regions:
        raise arm.bad_request("SkuNotAvailable",
                              f"The VM size '{vm.name}' is not available in location "
                              f"'{location}'. It is available in: {', '.join(vm.regions)}.")
    return vm


def check_overrides(model: sizing.CatalogModel, vm: sizing.VmSize, props: dict[str, Any]) -> None:
    """400 InvalidParameter for a recognized override key with an unusable value."""
    values = (props.get("overrides") or {}).get("values") or {}
    length = values.get("maxModelLen")
    if length is not None and (not length.isdigit()
                               or not 0 < int(length) <= model.max_context_length):
        raise arm.bad_request("InvalidParameter",
                              f"Invalid value for 'properties.overrides.values.maxModelLen': "
                              f"'{length}'; use an integer from 1 to {model.max_context_length}.")
    quantization = values.get("quantization")
    allowed = [q for q in sizing.BYTES_PER_PARAMETER if q != "fp8" or vm.supports_fp8]
    if quantization is not None and quantization not in allowed:
        raise arm.bad_request("InvalidParameter",
                              f"Invalid value for 'properties.overrides.values.quantization': "
                              f"'{quantization}'; {vm.name} supports {', '.join(allowed)}.")


def check_quota(emu: Any, parent: arm.Parent, spec: Spec, exclude_id: str) -> None:
    """400 InsufficientQuota when the region's GPU quota of the size's family cannot hold it."""
    family = spec.vm.family
    limit = sizing.quota_limit(emu.fixtures, parent.location, family)
    used = sizing.gpus_in_use(emu, parent.sub, parent.location, family, exclude_id)
    if spec.gpus > limit - used:
        raise arm.bad_request("InsufficientQuota",
                              f"The deployment needs {spec.gpus} {family} GPUs in "
                              f"{parent.location} ({spec.quota_replicas} replica(s) x "
                              f"{spec.placement.vms_per_replica} VM(s) x {spec.vm.gpus_per_vm} "
                              f"GPU(s)) but only {max(limit - used, 0)} of the subscription's "
                              f"{limit} are available ({used} in use). Request a quota increase "
                              "or choose another VM size (see calculateCost).")


def resolve(emu: Any, parent: arm.Parent, props: dict[str, Any], exclude_id: str = "") -> Spec:
    """Check ``props`` (defaults applied) against the catalog, sources, sizes and quota."""
    desired, most = replicas_of(props["scale"])
    model, custom = deployed_model(emu, props["modelResourceId"])
    source = model_source(emu, props.get("modelSourceResourceId"))
    if model.is_restricted and source is None:
        raise arm.bad_request("ModelSourceRequired",
                              f"The model '{model.model_id}' is restricted (gated): set "
                              "'properties.modelSourceResourceId' to a model source whose "
                              "credential has been granted access to it.")
    vm = vm_size(emu, props["vmSize"], parent.location)
    check_overrides(model, vm, props)
    spec = Spec(properties=props, model=model, vm=vm, placement=sizing.fit(model, vm),
                desired_replicas=desired, quota_replicas=most, source=source, custom=custom)
    check_quota(emu, parent, spec, exclude_id)
    return spec


def reconcile_error(spec: Spec) -> dict[str, str] | None:
    """The error the LRO ends with, if any: gated weights cannot be pulled without a credential.

    This is found while reconciling (the pull fails), not by the synchronous checks.
    """
    if spec.model.is_restricted and spec.source is not None and not has_credential(spec.source):
        return {"code": "ModelAccessDenied",
                "message": f"Pulling the weights of '{spec.model.model_id}' failed: the model is "
                           f"gated and the model source '{spec.source['name']}' has no "
                           "credential. Add a credential with access and PUT the deployment "
                           "again."}
    if spec.model.is_restricted and spec.source is not None and lacks_access(spec.source):
        return {"code": "ModelAccessDenied",
                "message": f"Pulling the weights of '{spec.model.model_id}' failed: the "
                           f"credential of model source '{spec.source['name']}' was refused "
                           "(403): its account has not been granted this gated model. Accept "
                           "the model's license with that account, or use a credential that "
                           "has access, and PUT the deployment again."}
    return None


def status_of(emu: Any, spec: Spec, endpoint: str) -> dict[str, Any]:
    """The runtime status once the deployment serves (replica counts at their desired value)."""
    values = (spec.properties.get("overrides") or {}).get("values") or {}
    engine = emu.fixtures.get("containerService.engine", {"name": "vllm", "version": "0.11.0"})
    per_replica = sizing.peak_tokens_per_minute(spec.model, spec.vm, spec.placement,
                                                spec.properties["performanceMode"])
    return {
        "endpoint": endpoint,
        "engine": engine["name"],
        "engineVersion": engine["version"],
        "maxModelLen": int(values.get("maxModelLen", spec.model.max_context_length)),
        "quantization": values.get("quantization", spec.placement.quantization),
        "desiredReplicas": spec.desired_replicas,
        "currentReplicas": spec.desired_replicas,
        "peakTokensPerMinute": per_replica * spec.desired_replicas,
        "estimatedProvisionTimeSeconds": max(1, math.ceil(emu.config.lro_seconds)),
    }
