"""DesiredState: what the manifests ask for, loaded, validated and with references resolved.

Built only by ``aimodels.manifest.load_manifests``; every later phase (plan, apply, drift) reads
it and never goes back to the YAML. Specs are plain JSON-like dicts exactly as written (after
schema validation), so the planner can diff them against live bodies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimodels.errors import SourceLocation
from aimodels.model.address import ResourceAddress


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The ``lifecycle`` block of an ARM-backed kind."""

    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DesiredResource:
    """One resource document: its address, spec as written, and where it came from.

    ``base_dir`` is the folder of the manifest file, against which relative paths
    (CustomModel ``path``) resolve. ``field_sources`` maps a dotted field path
    (``spec.vmSize``) to where it stands in the file, for diagnostics in later phases.
    """

    address: ResourceAddress
    spec: Mapping[str, Any]
    source: SourceLocation
    base_dir: Path
    labels: Mapping[str, str] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    field_sources: Mapping[str, SourceLocation] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.address.kind

    @property
    def name(self) -> str:
        return self.address.name


@dataclass(frozen=True, slots=True)
class StateBackendConfig:
    """Where state lives: ``local`` (a JSON file) or ``azureblob`` (a blob with a lease of
    ``lease_seconds``, None for the default)."""

    backend: str = "local"
    path: str | None = None
    account_url: str | None = None
    container: str | None = None
    blob: str | None = None
    lease_seconds: int | None = None


def allowed_folders(base_dir: Path, weights_roots: Sequence[str]) -> tuple[Path, ...]:
    """The folders local weights may come from: the Stack's folder ``base_dir`` and each
    ``spec.weightsRoots`` entry (relative to it, or absolute), links resolved."""
    return (base_dir.resolve(), *((base_dir / root).resolve() for root in weights_roots))


@dataclass(frozen=True, slots=True)
class Stack:
    """The one Stack document: the target and the defaults every resource inherits.

    ``weights_roots`` are the ``spec.weightsRoots`` entries as written: folders outside the
    Stack's own from which CustomModel weights may be read (``weights_folders``).
    """

    name: str
    target: str  # "local" or "azure"
    subscription_id: str
    resource_group: str
    location: str
    source: SourceLocation
    base_dir: Path
    ai_manager: str | None = None
    foundry_account: str | None = None
    custom_model_registry: str | None = None
    state: StateBackendConfig = field(default_factory=StateBackendConfig)
    weights_roots: tuple[str, ...] = ()

    @property
    def weights_folders(self) -> tuple[Path, ...]:
        """Where local weights may be read from (``allowed_folders``)."""
        return allowed_folders(self.base_dir, self.weights_roots)

    @property
    def data_dir(self) -> Path:
        """``.aimodels/`` beside the Stack file: local state and the embedded emulator's data."""
        return self.base_dir / ".aimodels"


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Every resource the manifests declare, keyed and sorted by address, plus the Stack."""

    stack: Stack
    resources: Mapping[ResourceAddress, DesiredResource]
    files: tuple[str, ...] = ()

    def of_kind(self, kind: str) -> list[DesiredResource]:
        """The resources of one kind, sorted by name."""
        return [r for a, r in sorted(self.resources.items()) if a.kind == kind]

    def digest(self) -> str:
        """A sha256 over the desired specs: a saved plan records it to detect edited manifests."""
        payload = {
            str(addr): {"spec": res.spec, "lifecycle": [res.lifecycle.prevent_destroy,
                                                        list(res.lifecycle.ignore_changes)]}
            for addr, res in sorted(self.resources.items())
        }
        payload["Stack"] = {"target": self.stack.target, "sub": self.stack.subscription_id,
                            "rg": self.stack.resource_group, "location": self.stack.location}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()
