"""ARM ids of the resources aimodels manages: built from a Stack, and taken apart again."""

from __future__ import annotations

import hashlib

from aimodels.model.desired import Stack


def arm_id(stack: Stack, provider: str, *segments: str) -> str:
    """``/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{type}/{name}/...``."""
    tail = "/".join(segments)
    return (f"/subscriptions/{stack.subscription_id}/resourceGroups/{stack.resource_group}"
            f"/providers/{provider}/{tail}")


def arm_parents(resource_id: str) -> dict[str, str]:
    """The ``type/name`` pairs after ``providers/{namespace}`` of an ARM id, keyed by type
    in lower case (``{"aimanagers": "team-alpha", "namespaces": "prod", ...}``)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return {}
    start = len(lowered) - lowered[::-1].index("providers") + 1
    pairs = parts[start:]
    return {pairs[i].lower(): pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}


def catalog_model_id(stack: Stack, model_id: str) -> str:
    """The AIModel id of a catalog model: its name is the first 16 hex of sha256(modelId)."""
    return (f"/subscriptions/{stack.subscription_id}/providers/Microsoft.ContainerService"
            f"/locations/{stack.location}/aiModels/{catalog_model_name(model_id)}")


def catalog_model_name(model_id: str) -> str:
    """The AIModel resource name for a catalog model id (``microsoft/Phi-4-mini-instruct``)."""
    return hashlib.sha256(model_id.encode()).hexdigest()[:16]
