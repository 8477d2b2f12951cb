"""The manifest kinds and the apiVersion they are written in."""

from __future__ import annotations

API_VERSION = "aimodels/v1"

STACK = "Stack"
MODEL_SOURCE = "ModelSource"
CUSTOM_MODEL = "CustomModel"
MODEL_DEPLOYMENT = "ModelDeployment"
FOUNDRY_DEPLOYMENT = "FoundryDeployment"

#: Kinds that become resources in Azure, in dependency order (sources and weights first).
RESOURCE_KINDS: tuple[str, ...] = (MODEL_SOURCE, CUSTOM_MODEL, MODEL_DEPLOYMENT, FOUNDRY_DEPLOYMENT)

#: Every kind a manifest may declare.
ALL_KINDS: tuple[str, ...] = (STACK, *RESOURCE_KINDS)

#: Kinds backed by ARM resources (RFC 1123 names, the lifecycle block).
ARM_KINDS: tuple[str, ...] = (MODEL_SOURCE, MODEL_DEPLOYMENT, FOUNDRY_DEPLOYMENT)
