"""FoundryDeployment: a model deployment on a Foundry (Cognitive Services) account.

ARM ``Microsoft.CognitiveServices/accounts/{a}/deployments/{name}``, api-version 2025-09-01:
``sku{name,capacity}`` and ``properties{model{format,name,version}, raiPolicyName,
versionUpgradeOption}``. The ETag is spelled ``etag`` here and the API declares no If-Match.
A custom model travels as ``az cognitiveservices account deployment create --model-name
--model-version --model-format --model-source`` sends it:
``model{format: <weights format>, name, version, source: custom-models/name}``, and reads back
as ``{custom: name, version, format}``. Its comparable spec also carries the digest of the
weights deployed (``model.sha256``, from the state): new
weights under the same version update the deployment in place (a PUT provisions it again),
with ``update_because_model_replaced``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimodels.model.address import ResourceAddress
from aimodels.model.arm import arm_id, arm_parents
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.kinds import CUSTOM_MODEL, FOUNDRY_DEPLOYMENT
from aimodels.plan.diff import ResourceDiff, SecretDigests
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

RP = "Microsoft.CognitiveServices"
API_VERSION = "2025-09-01"

#: Fields whose change needs a new deployment, per api-version. The model's format and name
#: cannot change in place; ``model.version`` can (Azure OpenAI upgrades a deployment's version
#: in place), and so can the SKU name and capacity (PATCH takes a sku-only body).
IMMUTABLE_BY_API_VERSION: dict[str, tuple[str, ...]] = {
    "2024-10-01": ("account", "model.format", "model.name", "model.custom"),
    "2025-09-01": ("account", "model.format", "model.name", "model.custom"),
}


class FoundryDeploymentProvider(ProviderBase):
    """Maps FoundryDeployment specs to ARM bodies and back."""

    kind = FOUNDRY_DEPLOYMENT
    api_version = API_VERSION
    writer = WriterFamily.COGNITIVE
    policy = FieldPolicy(
        server_computed=(*ARM_METADATA, "etag", "properties.provisioningState",
                         "properties.capabilities", "properties.rateLimits",
                         "properties.callRateLimit", "properties.dynamicThrottlingEnabled",
                         "properties.model.callRateLimit"),
        immutable=IMMUTABLE_BY_API_VERSION[API_VERSION],
        # Left out, the service picks the model's default version, the SKU's capacity, the
        # content filter and the upgrade policy (Terraform's optional+computed). Live values
        # vary: older deployments carry ``Microsoft.Default``, some no raiPolicyName at all
        # (tests/fixtures/azure), so a default of ours would diff against them and apply would
        # switch a content filter nobody asked to change. Omitted means "whatever is live":
        # never shown in a plan, and a PUT (a full replace) sends the live value back.
        computed_if_unset=("model.version", "sku.capacity", "raiPolicyName",
                           "versionUpgradeOption", DEPLOYED_DIGEST),
        from_state=(DEPLOYED_DIGEST,),
    )

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        return arm_id(stack, RP, "accounts", spec.get("account", ""), "deployments",
                      address.name)

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        spec = desired.spec
        return without_none({
            "account": spec.get("account") or ctx.stack.foundry_account,
            "model": _model_spec(spec.get("model") or {}, ctx),
            "sku": without_none(dict(spec.get("sku") or {})) or None,
            "raiPolicyName": spec.get("raiPolicyName"),
            "versionUpgradeOption": spec.get("versionUpgradeOption"),
        })

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        custom = spec_name(spec, "model", "custom")
        return (ResourceAddress(CUSTOM_MODEL, custom),) if custom else ()

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        return without_none({
            "sku": dict(spec["sku"]) if "sku" in spec else None,
            "properties": without_none({
                "model": _model_body(spec.get("model") or {}),
                "raiPolicyName": spec.get("raiPolicyName"),
                "versionUpgradeOption": spec.get("versionUpgradeOption"),
            }),
        })

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        kept = drop_server_computed(body, self.policy)
        props = kept.get("properties", {})
        sku = kept.get("sku") or {}
        return without_none({
            "account": arm_parents(body.get("id", "")).get("accounts"),
            "model": _model_from_live(props.get("model")),
            "sku": without_none({"name": sku.get("name"), "capacity": sku.get("capacity")})
            or None,
            "raiPolicyName": props.get("raiPolicyName"),
            "versionUpgradeOption": props.get("versionUpgradeOption"),
        })

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        """A custom model is named only (``exported_model``)."""
        spec = self.from_live(body)
        drop_default(spec, "account", ctx.stack.foundry_account)
        return ExportedSpec(spec, exported_model(spec))

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        live = assume_same_digest(desired_spec, live_spec)
        found = super().diff(desired_spec, live, ignore=ignore, secrets=secrets)
        return explain_new_weights(found, Reason.UPDATE_BECAUSE_MODEL_REPLACED)


def _model_spec(model: Mapping[str, Any], ctx: ProviderContext) -> dict[str, Any] | None:
    """The comparable model: a custom one with its version, format and the digest of its
    weights (``deployed_model``)."""
    if model.get("custom"):
        return deployed_model(model, ctx, with_format=True)
    fields = without_none({k: model.get(k) for k in ("format", "name")})
    return without_none({**fields, "version": _text(model.get("version"))}) or None


def _model_body(model: Mapping[str, Any]) -> dict[str, Any]:
    """The wire model; a custom one names its registry path as the source."""
    if not model.get("custom"):
        return without_none({k: model.get(k) for k in ("format", "name", "version")})
    return without_none({"format": model.get("format"), "name": model["custom"],
                         "version": model.get("version"),
                         "source": registry_path(model["custom"])})


def _model_from_live(model: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not model:
        return None
    custom = parse_registry_path(model.get("source"))
    if custom is not None:
        return without_none({"custom": custom[0], "version": model.get("version"),
                             "format": model.get("format")})
    return without_none({k: model.get(k) for k in ("format", "name", "version")})


def _text(value: Any) -> str | None:
    """Versions are strings (``"2024-11-20"``); YAML may have read an unquoted one as a number."""
    return None if value is None else str(value)
