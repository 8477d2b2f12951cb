"""ModelSource: an external registry (Hugging Face) and the credential to pull from it.

ARM ``Microsoft.ContainerService/aiManagers/{m}/modelSources/{name}`` (docs/emulator.md). The
credential is write-only: the service never returns an inline value. In the comparable spec an
inline credential (``fromEnv`` in the manifest) is ``credential: {secret: "(sensitive value)"}``,
compared by the keyed digest kept in state and always masked; a Key Vault reference is
``credential: {keyVaultSecretUri: ...}``, compared as text (it names a secret, it is not one) and
sent as ``{"keyVault": {"type": "KeyVault", "secretUri": ...}}``; a managed identity (how a
MicrosoftFoundry source authenticates) is ``credential: {managedIdentityResourceId: ...}``, sent
as ``{"managedIdentity": {"resourceId": ...}}``, with the project in ``microsoftFoundry``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aimodels.errors import ManifestError
from aimodels.model.address import ResourceAddress
from aimodels.model.arm import arm_id, arm_parents
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.kinds import MODEL_SOURCE
from aimodels.plan.provider import ExportContext, ExportedSpec, ProviderContext, WriterFamily
from aimodels.plan.values import SENSITIVE_VALUE
from aimodels.providers.base import (
    ARM_METADATA,
    FieldPolicy,
    ProviderBase,
    drop_default,
    drop_server_computed,
    without_none,
)

RP = "Microsoft.ContainerService"
API_VERSION = "2026-08-02-preview"

#: The spec path of the inline secret: the key of its digest (``ResolvedInputs.secret_digests``,
#: ``PriorResource.secret_digests``) and of its value (``ProviderContext.secret_values``).
SECRET_PATH = "credential.secret"

#: Fields whose change needs a new resource, per api-version (sourceType is
#: create-only, and so is the Foundry project a source reads; the parent aiManager is part of
#: the id).
IMMUTABLE_BY_API_VERSION: dict[str, tuple[str, ...]] = {
    "2026-05-02-preview": ("aiManager", "sourceType", "microsoftFoundry"),
    "2026-08-02-preview": ("aiManager", "sourceType", "microsoftFoundry"),
}


class ModelSourceProvider(ProviderBase):
    """Maps ModelSource specs to ARM bodies and back."""

    kind = MODEL_SOURCE
    api_version = API_VERSION
    writer = WriterFamily.ARM
    policy = FieldPolicy(
        server_computed=(*ARM_METADATA, "eTag", "properties.provisioningState"),
        immutable=IMMUTABLE_BY_API_VERSION[API_VERSION],
        secret=(SECRET_PATH,),
    )

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        return arm_id(stack, RP, "aiManagers", spec.get("aiManager", ""), "modelSources",
                      address.name)

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        spec = desired.spec
        return without_none({
            "aiManager": spec.get("aiManager") or ctx.stack.ai_manager,
            "sourceType": spec.get("sourceType"),
            "description": spec.get("description"),
            "credential": _credential_spec(spec.get("credential")),
            "microsoftFoundry": spec.get("microsoftFoundry"),
        })

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        props = without_none({"sourceType": spec.get("sourceType"),
                              "description": spec.get("description"),
                              "microsoftFoundry": spec.get("microsoftFoundry")})
        credential = spec.get("credential") or {}
        if "secret" in credential:
            props["credential"] = {"inline": {"type": "Inline",
                                              "value": _secret(address, ctx)}}
        elif "keyVaultSecretUri" in credential:
            props["credential"] = {"keyVault": {"type": "KeyVault",
                                                "secretUri": credential["keyVaultSecretUri"]}}
        elif "managedIdentityResourceId" in credential:
            props["credential"] = {"managedIdentity": {
                "resourceId": credential["managedIdentityResourceId"]}}
        return {"properties": props}

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        props = drop_server_computed(body, self.policy).get("properties", {})
        return without_none({
            "aiManager": arm_parents(body.get("id", "")).get("aimanagers"),
            "sourceType": props.get("sourceType"),
            "description": props.get("description"),
            "credential": _credential_from_live(props.get("credential")),
            "microsoftFoundry": props.get("microsoftFoundry"),
        })

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        """A secret is never exported: an inline credential becomes a ``fromEnv`` variable
        to fill in; a credential of a kind aimodels does not know is left out."""
        spec = self.from_live(body)
        drop_default(spec, "aiManager", ctx.stack.ai_manager)
        credential = spec.get("credential")
        if not credential:
            return ExportedSpec(spec)
        if credential.get("secret") == SENSITIVE_VALUE:
            variable = f"CHANGE_ME_{_env_name(str(body.get('name', '')))}_TOKEN"
            spec["credential"] = {"fromEnv": variable}
            return ExportedSpec(spec, {"credential": (
                "Azure never returns the secret, so it is not exported. Put the token in this "
                "variable (or rename it) before plan and apply,",
                f"e.g. export {variable}=...; the first apply after an import sends it.")})
        if not {"keyVaultSecretUri", "managedIdentityResourceId"} & set(credential):
            spec.pop("credential")
            return ExportedSpec(spec, {"credential": (
                f"left out: Azure holds a credential of a kind aimodels does not know "
                f"({', '.join(sorted(credential))}).",)})
        return ExportedSpec(spec)


def _env_name(name: str) -> str:
    """A source's name as an environment variable's (``hf-private``: ``HF_PRIVATE``)."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "SOURCE"


def _credential_spec(credential: Mapping[str, Any] | None) -> Any:
    """The manifest credential in comparable shape: an inline secret is only a marker."""
    if not credential:
        return None
    for reference in ("keyVaultSecretUri", "managedIdentityResourceId"):
        if reference in credential:
            return {reference: credential[reference]}
    return {"secret": SENSITIVE_VALUE}


def _credential_from_live(credential: Mapping[str, Any] | None) -> Any:
    """A live credential in comparable shape; an unknown kind is kept as Azure named it."""
    if not credential:
        return None
    if "inline" in credential:
        return {"secret": SENSITIVE_VALUE}
    if "keyVault" in credential:
        return {"keyVaultSecretUri": credential["keyVault"].get("secretUri")}
    if "managedIdentity" in credential:
        return {"managedIdentityResourceId": credential["managedIdentity"].get("resourceId")}
    return {key: value for key, value in credential.items() if key != "type"}


def _secret(address: ResourceAddress, ctx: ProviderContext) -> str:
    """The inline secret apply sends; an unresolved one is the user's to fix, never a blank."""
    value = ctx.secret_values.get(address, {}).get(SECRET_PATH)
    if value is None:
        source = ctx.desired.get(address)
        env = source.spec.get("credential", {}).get("fromEnv", "") if source else ""
        raise ManifestError(f"{address}: the credential secret is not available",
                            hint=f"set {env} in the environment" if env else "")
    return value
