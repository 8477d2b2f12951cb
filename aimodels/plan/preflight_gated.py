"""Pre-flight of gated catalog models (docs/preflight.md): a ModelDeployment of a
model whose license needs a credential (``spec.isRestricted`` in the AI manager's catalog) needs
a ModelSource that has one. Pure: ``GatedRequest`` values in, diagnostics out.

What Azure does otherwise, and so what the plan says before anything moves:

    no spec.modelSource                 the PUT fails: 400 ModelSourceRequired
    a ModelSource without a credential  the deployment is created, then fails while pulling the
                                        weights (ModelAccessDenied)
    a ModelSource that does not exist   the PUT fails: 400 ModelSourceNotFound (any model)

A ModelSource of these manifests has a credential when its spec declares one (``fromEnv`` or
``keyVaultSecretUri``); an existing one when Azure says ``properties.credential`` is set (the
secret itself is write-only and never read).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aimodels.errors import Diagnostic, error

CREDENTIAL_EXAMPLE = "credential: {fromEnv: HF_TOKEN}"


class SourceState(enum.Enum):
    """What pre-flight knows of the ModelSource a ModelDeployment names."""

    NONE = "none"  # spec.modelSource is not set
    MISSING = "missing"  # not in the manifests, and not in Azure
    NO_CREDENTIAL = "no credential"
    CREDENTIAL = "credential"


@dataclass(frozen=True, slots=True)
class GatedRequest:
    """One ModelDeployment write as this check sees it.

    ``restricted`` and ``license`` come from the catalog's AIModel (None when the model is
    custom or not in the catalog: nothing to say here). ``source`` is spec.modelSource as
    written; ``declared`` is True when it is a ModelSource of these manifests.
    """

    address: str
    model: str
    restricted: bool | None
    license: str | None
    source: str | None
    source_state: SourceState
    ai_manager: str = ""
    declared: bool = False


def check_gated(requests: list[GatedRequest]) -> list[Diagnostic]:
    """An error for each deployment whose model source cannot serve it (module docstring)."""
    found = []
    for request in requests:
        diagnostic = _finding(request)
        if diagnostic is not None:
            found.append(diagnostic)
    return found


def _finding(request: GatedRequest) -> Diagnostic | None:
    where = {"address": request.address, "path": "spec.modelSource"}
    if request.source_state is SourceState.MISSING:
        return error(f"ModelSource {request.source} not found in AI manager "
                     f"{request.ai_manager or '(none)'}",
                     "Apply would fail with ModelSourceNotFound. Declare it in the manifests "
                     "(kind: ModelSource), or set spec.modelSource to one that exists.", **where)
    if not request.restricted:
        return None
    gated = f"{request.model} is gated ({_license(request)})"
    if request.source_state is SourceState.NONE:
        return error(f"{gated}: it needs a ModelSource with a credential",
                     "Without one, apply fails with ModelSourceRequired. Declare a ModelSource "
                     f"whose credential has access to the model (spec: {{sourceType: "
                     f"HuggingFace, {CREDENTIAL_EXAMPLE}}}, a token of an account that "
                     "accepted the license) and set this deployment's spec.modelSource to it.",
                     address=request.address, path="spec.model.catalog")
    if request.source_state is SourceState.NO_CREDENTIAL:
        fix = (f"Add spec.credential to ModelSource {request.source} ({CREDENTIAL_EXAMPLE}, "
               "or keyVaultSecretUri)" if request.declared else
               f"Give the ModelSource {request.source} a credential in Azure, or point "
               "spec.modelSource to a ModelSource that has one")
        return error(f"{gated}, and ModelSource {request.source} has no credential",
                     "The deployment would be created, then fail pulling the weights "
                     f"(ModelAccessDenied). {fix}, with a token that has access to the model.",
                     **where)
    return None


def _license(request: GatedRequest) -> str:
    return f"license {request.license}" if request.license else "its license needs a credential"
