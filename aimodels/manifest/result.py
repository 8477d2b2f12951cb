"""What a successful load of the manifests gives: kept apart from the loader so that the
modules that only pass it on (``service.prefetch``, ``service.planning``) do not import YAML
and the checks."""

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
