"""Which provider handles which kind: one registry, built once and passed to the planner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aimodels.model.address import ResourceAddress
from aimodels.providers.base import Provider
from aimodels.providers.custommodel import CustomModelProvider
from aimodels.providers.foundrydeployment import FoundryDeploymentProvider
from aimodels.providers.modeldeployment import ModelDeploymentProvider
from aimodels.providers.modelsource import ModelSourceProvider


@dataclass(frozen=True, slots=True)
class ProviderRegistry:
    """Providers by kind. Tests and future kinds build their own with ``of``."""

    by_kind: Mapping[str, Provider]

    @classmethod
    def of(cls, providers: Iterable[Provider]) -> ProviderRegistry:
        return cls({p.kind: p for p in providers})

    def for_kind(self, kind: str) -> Provider:
        """The provider of a kind; an unknown kind is a bug (manifests are validated first)."""
        return self.by_kind[kind]

    def for_address(self, address: ResourceAddress) -> Provider:
        return self.for_kind(address.kind)


def default_registry() -> ProviderRegistry:
    """One provider per resource kind of the spec."""
    return ProviderRegistry.of([ModelSourceProvider(), CustomModelProvider(),
                                ModelDeploymentProvider(), FoundryDeploymentProvider()])
