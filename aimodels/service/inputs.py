"""What the planner needs from this machine but may not read itself (it is pure): the content
hashes of CustomModel weights and the keyed digests of the secrets resources reference.

Weights are hashed by ``aimodels.weights`` through the Stack's digest cache
(``.aimodels/weights-cache.json``), so unchanged weights cost a ``stat`` per file; their
detected format is checked against ``spec.format`` here, and a contradiction is a manifest
error pointing at that line. Secrets are read from the environment here, turned into digests
at once, and never kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from aimodels.errors import Diagnostic, ManifestError, error
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState
from aimodels.model.kinds import CUSTOM_MODEL, MODEL_SOURCE
from aimodels.plan.values import ResolvedInputs, Weights
from aimodels.providers.modelsource import SECRET_PATH
from aimodels.state.values import State
from aimodels.transport.redact import register_secret
from aimodels.weights.cache import HashCache
from aimodels.weights.formats import FORMATS, format_from_name
from aimodels.weights.hashing import HashedWeights, hash_local, hash_weights
from aimodels.weights.source import WeightsPathError, local_root, source_of

__all__ = ["credential_value", "hash_weights", "resolve_inputs", "resolve_weights",
           "secret_values"]


def resolve_inputs(desired: DesiredState, state: State, env: Mapping[str, str]) -> ResolvedInputs:
    """Hash every local CustomModel path and digest every referenced secret."""
    weights = resolve_weights(desired)
    digests = {r.address: d for r in desired.of_kind(MODEL_SOURCE)
               if (d := _credential_digest(r, state, env))}
    return ResolvedInputs(weights=weights, secret_digests=digests)


def secret_values(desired: DesiredState, env: Mapping[str, str]
                  ) -> dict[ResourceAddress, dict[str, str]]:
    """The secret values apply sends (``credential`` of ModelSources), read from the environment."""
    return {resource.address: {SECRET_PATH: value} for resource in desired.of_kind(MODEL_SOURCE)
            if (value := credential_value(resource, env))}


def credential_value(resource: DesiredResource, env: Mapping[str, str]) -> str | None:
    """The secret a ModelSource's ``credential.fromEnv`` names, None when unset or empty.

    Registered as a known secret (``transport.redact``) the moment it is read, so a service
    that quotes it back in an error never gets it printed.
    """
    name = (resource.spec.get("credential") or {}).get("fromEnv")
    value = env.get(name) if name else None
    register_secret(value)
    return value or None


def resolve_weights(desired: DesiredState) -> dict[ResourceAddress, Weights]:
    """The content of every local CustomModel, through the Stack's digest cache. A format
    that contradicts ``spec.format``, or none to be found, or weights that may not be read
    (outside the Stack's folders, not regular files: ``weights_files``) is a ManifestError
    (exit 3) listing every such CustomModel with the line of its ``format:`` (or ``path:``)."""
    cache = HashCache.for_stack(desired.stack.data_dir)
    found: dict[ResourceAddress, Weights] = {}
    problems: list[Diagnostic] = []
    roots = desired.stack.weights_folders
    try:
        for resource in desired.of_kind(CUSTOM_MODEL):
            root = local_root(resource)
            try:
                hashed = hash_local(root, cache, roots) if root is not None else None
            except WeightsPathError as refused:  # moved since validate: same rule, same words
                problems.append(_at(resource, "spec.path", refused.message, refused.hint))
                continue
            problem = _format_problem(resource, hashed)
            if problem is not None:
                problems.append(problem)
            if hashed is not None:
                found[resource.address] = hashed.weights()
    finally:
        cache.save()
    if problems:
        noun = "CustomModel" if len(problems) == 1 else "CustomModels"
        raise ManifestError(f"the weights of {len(problems)} {noun} do not match the manifests",
                            hint="Fix spec.format (or spec.path), then plan again.",
                            diagnostics=tuple(problems))
    return found


def _format_problem(resource: DesiredResource, hashed: HashedWeights | None) -> Diagnostic | None:
    """Why the weights' format and ``spec.format`` disagree, or cannot be known; None if fine."""
    declared = resource.spec.get("format")
    detected = hashed.formats if hashed is not None else _named(source_of(resource))
    if declared and detected and declared not in detected:
        found = " and ".join(sorted(detected))
        return _at(resource, "spec.format", f"the weights are {found}, not {declared}",
                   f"{source_of(resource)} holds {found} weights (told by their content). Set "
                   f"format: {sorted(detected)[0]}, or point spec.path at the {declared} weights.")
    if declared:
        return None
    if len(detected) > 1:
        return _at(resource, "spec.format", "set the format: the weights mix several",
                   f"Found {', '.join(sorted(detected))}; say which one to register.")
    if not detected:
        return _at(resource, "spec.format", "set the format: the weights do not tell it",
                   f"Nothing in {source_of(resource)} looks like {', '.join(FORMATS)} weights; "
                   "set spec.format.")
    return None


def _named(source: str) -> frozenset[str]:
    """The format a URL's file name suggests (its content is never read here)."""
    fmt = format_from_name(source)
    return frozenset({fmt}) if fmt else frozenset()


def _at(resource: DesiredResource, path: str, summary: str, detail: str) -> Diagnostic:
    source = resource.field_sources.get(path) or resource.field_sources.get("spec.path") or \
        resource.source
    return error(summary, detail, source=source, path=path, address=str(resource.address))


def _credential_digest(resource: DesiredResource, state: State,
                       env: Mapping[str, str]) -> dict[str, str]:
    value = credential_value(resource, env)
    return {SECRET_PATH: state.secret_digest(value)} if value else {}
