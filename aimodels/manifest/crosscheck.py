"""Checks across the whole manifest set: duplicate addresses, exactly one Stack, references to
CustomModels and ModelSources, and the parents (AI manager, Foundry account) every resource
needs, from its own spec or the Stack's defaults.

When a file could not be read at all (``complete=False``), the checks that complain about
something *missing* (no Stack, unknown CustomModel) are skipped: it may be in that file.
"""

from __future__ import annotations

from collections.abc import Sequence

from aimodels.errors import Diagnostic, error, warning
from aimodels.manifest.checks import field
from aimodels.manifest.explain import did_you_mean
from aimodels.manifest.header import Manifest
from aimodels.model.kinds import (
    CUSTOM_MODEL,
    FOUNDRY_DEPLOYMENT,
    MODEL_DEPLOYMENT,
    MODEL_SOURCE,
    STACK,
)

#: Which Stack default fills which field of which kinds.
PARENT_DEFAULTS = {
    MODEL_SOURCE: ("aiManager", "aiManager"),
    MODEL_DEPLOYMENT: ("aiManager", "aiManager"),
    FOUNDRY_DEPLOYMENT: ("account", "foundryAccount"),
}

_STACK_EXAMPLE = """Add one, e.g. stack.yaml:
  apiVersion: aimodels/v1
  kind: Stack
  metadata: {name: my-stack}
  spec: {target: local, subscriptionId: 00000000-0000-0000-0000-000000000000,
         resourceGroup: rg-my-stack, location: eastus, aiManager: my-manager}"""


def check_set(manifests: Sequence[Manifest], *, complete: bool) -> tuple[Manifest | None,
                                                                          list[Diagnostic]]:
    """The one Stack (None when there is not exactly one) and every set-level diagnostic."""
    stack, diagnostics = _stacks(manifests, complete)
    diagnostics += _duplicates(manifests)
    diagnostics += _custom_model_refs(manifests, complete)
    diagnostics += _model_source_refs(manifests, stack)
    if stack is not None and stack.valid:
        diagnostics += _parents(manifests, stack) + _registry(manifests, stack)
    return stack, diagnostics


def resolved_parent(manifest: Manifest, stack: Manifest | None) -> str | None:
    """The AI manager or Foundry account of a resource: its own, else the Stack's default."""
    own_field, default_field = PARENT_DEFAULTS[manifest.kind]
    own = field(manifest, own_field)
    if own is None and stack is not None and stack.valid:
        own = field(stack, default_field)
    return own if isinstance(own, str) else None


def _stacks(manifests: Sequence[Manifest], complete: bool) -> tuple[Manifest | None,
                                                                   list[Diagnostic]]:
    stacks = [m for m in manifests if m.kind == STACK]
    if not stacks:
        if not complete or not manifests:
            return None, []
        first = manifests[0]
        return None, [error("no Stack in these manifests",
                            f"A manifest set has exactly one Stack: the target and the defaults "
                            f"its resources inherit. {_STACK_EXAMPLE}", source=first.doc.start)]
    first = stacks[0]
    extra = [error(f"a second Stack: {m.address}",
                   f"{first.address} is already declared at {first.doc.start}. A manifest set has "
                   "exactly one Stack; keep each environment in its own folder and pass one with "
                   "-f (docs/manifests.md: several environments).", source=m.doc.start,
                   address=m.address)
             for m in stacks[1:]]
    return (first if not extra else None), extra


def _duplicates(manifests: Sequence[Manifest]) -> list[Diagnostic]:
    seen: dict[tuple[str, str], Manifest] = {}
    out = []
    for m in manifests:
        if m.name is None:
            continue
        # Cognitive Services compares deployment names case-insensitively; RFC 1123 names are
        # lowercase already.
        key = (m.kind, m.name.lower())
        if key in seen:
            out.append(_duplicate(m, seen[key]))
        else:
            seen[key] = m
    return out


def _duplicate(again: Manifest, first: Manifest) -> Diagnostic:
    where = first.doc.at(("metadata", "name"))
    detail = f"{first.address} is already declared at {where}. Names are unique per kind"
    detail += "; FoundryDeployment names compare case-insensitively, as Azure does." \
        if first.name != again.name else "."
    return error(f"duplicate address {again.address}", detail,
                 source=again.doc.at(("metadata", "name")), path="metadata.name",
                 address=again.address)


#: What a deployment of a model registered outside the manifests must say, per kind: the
#: version (no "latest": a new registration never redeploys silently) and, on Foundry, the
#: format the body carries.
_EXTERNAL_FIELDS = {MODEL_DEPLOYMENT: ("version",), FOUNDRY_DEPLOYMENT: ("version", "format")}


def _custom_model_refs(manifests: Sequence[Manifest], complete: bool) -> list[Diagnostic]:
    """``model.custom`` names a CustomModel of the set, or a registered model with its version
    (and format on Foundry); a registered model named like one of the set is a warning."""
    if not complete:
        return []
    customs = sorted(m.name for m in manifests if m.kind == CUSTOM_MODEL and m.name)
    out = []
    for m in manifests:
        ref = field(m, "model", "custom") if m.valid and m.kind in PARENT_DEFAULTS else None
        if not isinstance(ref, str) or ref in customs:
            continue
        needed = _EXTERNAL_FIELDS[m.kind]
        if all(field(m, "model", name) is not None for name in needed):
            if (guess := did_you_mean(ref, customs)) is not None:
                out.append(_close_custom(m, ref, guess))
        else:
            out.append(_unknown_custom(m, ref, customs, needed))
    return out


def _unknown_custom(m: Manifest, ref: str, customs: list[str],
                    needed: tuple[str, ...]) -> Diagnostic:
    guess = did_you_mean(ref, customs)
    summary = f"unknown CustomModel '{ref}'" + (f"; did you mean '{guess}'?" if guess else "")
    have = f"The CustomModels here are: {', '.join(customs)}." if customs else \
        "There is no CustomModel in these manifests."
    fields = " and ".join(f"model.{name}" for name in needed)
    return error(summary, f"model.custom names a CustomModel declared in the same manifest "
                 f"set. {have} To deploy a model registered outside these manifests, give "
                 f"{fields} too.", source=m.doc.at(("spec", "model", "custom")),
                 path="spec.model.custom", address=m.address)


def _close_custom(m: Manifest, ref: str, guess: str) -> Diagnostic:
    return warning(f"model.custom '{ref}' is not a CustomModel of these manifests; did you "
                   f"mean '{guess}'?", f"It is deployed as a model already registered in the "
                   f"registry, which the plan does not check. If you meant CustomModel/{guess}, "
                   "name it and drop model.version.",
                   source=m.doc.at(("spec", "model", "custom")), path="spec.model.custom",
                   address=m.address)


def _model_source_refs(manifests: Sequence[Manifest], stack: Manifest | None) -> list[Diagnostic]:
    sources = {m.name: m for m in manifests if m.kind == MODEL_SOURCE and m.name}
    out = []
    for m in manifests:
        ref = field(m, "modelSource") if m.valid and m.kind == MODEL_DEPLOYMENT else None
        if not isinstance(ref, str):
            continue
        if ref in sources:
            out += _same_manager(m, sources[ref], stack)
        elif (guess := did_you_mean(ref, sources)) is not None:
            out.append(_near_miss_source(m, ref, sources[guess], stack))
    return out


def _near_miss_source(m: Manifest, ref: str, near: Manifest, stack: Manifest | None) -> Diagnostic:
    manager = resolved_parent(m, stack) or "the AI manager"
    return warning(f"ModelSource '{ref}' is not in these manifests",
                   f"It must already exist in {manager}. Did you mean '{near.name}' "
                   f"({near.address} at {near.doc.start})?",
                   source=m.doc.at(("spec", "modelSource")), path="spec.modelSource",
                   address=m.address)


def _same_manager(m: Manifest, source: Manifest, stack: Manifest | None) -> list[Diagnostic]:
    mine, theirs = resolved_parent(m, stack), resolved_parent(source, stack)
    if not source.valid or mine is None or theirs is None or mine == theirs:
        return []
    return [error(f"{source.address} belongs to AI manager '{theirs}', this deployment to '{mine}'",
                  "A deployment can only use a ModelSource of its own AI manager: move one of "
                  "them, or declare a ModelSource in this AI manager.",
                  source=m.doc.at(("spec", "modelSource")), path="spec.modelSource",
                  address=m.address)]


def _parents(manifests: Sequence[Manifest], stack: Manifest) -> list[Diagnostic]:
    out = []
    for m in manifests:
        if not m.valid or m.kind not in PARENT_DEFAULTS or resolved_parent(m, stack):
            continue
        own, default = PARENT_DEFAULTS[m.kind]
        out.append(error(f"no {own}: spec.{own} is not set and the Stack has no {default}",
                         f"Set spec.{own} here, or {default} in {stack.address}'s spec (at "
                         f"{stack.doc.start}) as the default for every resource.",
                         source=m.doc.at(("spec",), key=True), path="spec", address=m.address))
    return out


def _registry(manifests: Sequence[Manifest], stack: Manifest) -> list[Diagnostic]:
    customs = [m.address for m in manifests if m.kind == CUSTOM_MODEL]
    if field(stack, "target") != "azure" or field(stack, "customModelRegistry") or not customs:
        return []
    return [error("target azure needs spec.customModelRegistry for CustomModels",
                  f"{', '.join(customs)} must be uploaded to and registered in a custom-model "
                  "registry: set customModelRegistry to its https:// endpoint.",
                  source=stack.doc.at(("spec", "target")), path="spec.target",
                  address=stack.address)]
