"""What a successful load of the manifests gives: kept apart from the loader so that a process
that only receives it (``service.manifest_load``) does not import YAML and the checks."""

from __future__ import annotations

from dataclasses import dataclass

from aimodels.errors import Diagnostic
from aimodels.model.desired import DesiredState


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A valid manifest set: the desired state, and the warnings found on the way (unset
    credential variables with ``strict_env=False``, skipped foreign documents...)."""

    desired: DesiredState
    warnings: tuple[Diagnostic, ...]
