"""The registry of this build's kinds: one provider per kind, built once by the caller and
passed to the planner, the reader and the executor."""

from __future__ import annotations

from aimodels.plan.provider import ProviderRegistry
from aimodels.providers.custommodel import CustomModelProvider
from aimodels.providers.foundrydeployment import FoundryDeploymentProvider
from aimodels.providers.modeldeployment import ModelDeploymentProvider
from aimodels.providers.modelsource import ModelSourceProvider


def default_registry() -> ProviderRegistry:
    """One provider per resource kind of the spec."""
    return ProviderRegistry.of([ModelSourceProvider(), CustomModelProvider(),
                                ModelDeploymentProvider(), FoundryDeploymentProvider()])
