"""Checks of one manifest on its own: literal secrets, the schema, then the rules a schema cannot
say (autoscale bounds, ignoreChanges paths, credential variables set). Weights on disk are
checked with the set, once the Stack's folders are known (``manifest.weights``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aimodels.errors import Diagnostic, error, has_errors, warning
from aimodels.fastschema import compiled
from aimodels.manifest.explain import did_you_mean, explain_errors
from aimodels.manifest.header import Manifest
from aimodels.manifest.schemas import load_schema, spec_field_paths, validator
from aimodels.manifest.secrets import find_secrets, secret_diagnostic
from aimodels.manifest.yamldoc import FieldPath, format_path
from aimodels.model.kinds import API_VERSION, ARM_KINDS, MODEL_DEPLOYMENT
from aimodels.transport.redact import register_secret


@dataclass(frozen=True, slots=True)
class Checked:
    """A manifest after its own checks: ``manifest.valid`` updated, the diagnostics found, and
    the literal secret values to scrub from every message."""

    manifest: Manifest
    diagnostics: tuple[Diagnostic, ...]
    secrets: tuple[str, ...]


def check_document(manifest: Manifest, env: Mapping[str, str], strict_env: bool) -> Checked:
    """Secrets first (so nothing echoes them), then the schema, then the semantic rules."""
    findings = find_secrets(manifest.doc)
    diagnostics = [replace(p, address=manifest.address) for p in manifest.doc.problems]
    diagnostics += [secret_diagnostic(manifest.doc, f, manifest.address) for f in findings]
    diagnostics += schema_diagnostics(manifest, [f.scope for f in findings])
    if not has_errors(diagnostics):
        diagnostics += semantic_diagnostics(manifest, env, strict_env)
    valid = manifest.valid and not has_errors(diagnostics)
    return Checked(replace(manifest, valid=valid), tuple(diagnostics),
                   tuple(f.value for f in findings))


def schema_diagnostics(manifest: Manifest, covered: Sequence[FieldPath]) -> list[Diagnostic]:
    """Schema errors as diagnostics, except at or under fields already refused as secrets
    (``covered``): a refused credential needs no second message about its shape.

    apiVersion and kind were judged by the header check, so the schema sees them corrected.
    """
    data = {**manifest.doc.data, "apiVersion": API_VERSION, "kind": manifest.kind}
    if compiled(load_schema(manifest.kind))(data):
        return []  # the common case, in microseconds; jsonschema only finds and explains
    errors = validator(manifest.kind).iter_errors(data)
    found = explain_errors(errors, manifest.doc, manifest.kind, manifest.address)
    scopes = [format_path(scope) for scope in covered]
    return [d for d in found if not any(_within(d.path, scope) for scope in scopes)]


def _within(path: str, scope: str) -> bool:
    return path == scope or path.startswith((scope + ".", scope + "["))


def semantic_diagnostics(manifest: Manifest, env: Mapping[str, str],
                         strict_env: bool) -> list[Diagnostic]:
    """Rules beyond the schema, for a schema-valid manifest."""
    out = _autoscale(manifest) + _ignore_changes(manifest)
    return out + _credential_env(manifest, env, strict_env)


def _autoscale(manifest: Manifest) -> list[Diagnostic]:
    if manifest.kind != MODEL_DEPLOYMENT:
        return []
    bounds = manifest.spec.get("scale", {}).get("autoscale")
    if not bounds or bounds["minReplicas"] <= bounds["maxReplicas"]:
        return []
    path = ("spec", "scale", "autoscale", "maxReplicas")
    return [_error(manifest, path, f"maxReplicas ({bounds['maxReplicas']}) is less than "
                   f"minReplicas ({bounds['minReplicas']})",
                   "Autoscale runs between minReplicas and maxReplicas: raise maxReplicas or "
                   "lower minReplicas.")]


def _ignore_changes(manifest: Manifest) -> list[Diagnostic]:
    if manifest.kind not in ARM_KINDS:
        return []
    entries = manifest.spec.get("lifecycle", {}).get("ignoreChanges", [])
    known = spec_field_paths(manifest.kind)
    return [_unknown_ignore(manifest, i, entry, known)
            for i, entry in enumerate(entries) if not _is_field(entry, known)]


def _is_field(entry: str, known: frozenset[str]) -> bool:
    wildcards = [k.removesuffix("*") for k in known if k.endswith(".*")]
    return entry in known or any(entry.startswith(w) and len(entry) > len(w) for w in wildcards)


def _unknown_ignore(manifest: Manifest, index: int, entry: str,
                    known: frozenset[str]) -> Diagnostic:
    guess = did_you_mean(entry, [k for k in known if not k.endswith("*")])
    summary = f"'{entry}' is not a field of a {manifest.kind}'s spec"
    summary += f"; did you mean '{guess}'?" if guess else ""
    listing = ", ".join(sorted(known))
    return _error(manifest, ("spec", "lifecycle", "ignoreChanges", index), summary,
                  f"ignoreChanges takes field paths under spec: {listing}.")


def _credential_env(manifest: Manifest, env: Mapping[str, str], strict: bool) -> list[Diagnostic]:
    credential = manifest.spec.get("credential")
    name = credential.get("fromEnv") if isinstance(credential, Mapping) else None
    if isinstance(name, str):
        register_secret(env.get(name))  # known from here on, for every command's output
    value = env.get(name) if isinstance(name, str) else None
    if not isinstance(name, str) or (value and value.strip()):
        return []
    # Whitespace alone is no token either: a quoting slip, which Azure would reject later.
    state = "is not set" if value is None else "is empty" if not value else \
        "holds only whitespace"
    make = error if strict else warning
    when = "plan and apply need it" if strict else "plan and apply will need it"
    return [make(f"environment variable {name} {state}",
                 f"{manifest.address} reads its credential from {name}; {when}. Export it first "
                 f"(export {name}=...), or use keyVaultSecretUri.",
                 source=manifest.doc.at(("spec", "credential", "fromEnv")),
                 path="spec.credential.fromEnv", address=manifest.address)]


def _error(manifest: Manifest, path: FieldPath, summary: str, detail: str = "") -> Diagnostic:
    return error(summary, detail, source=manifest.doc.at(path), path=format_path(path),
                 address=manifest.address)


def field(manifest: Manifest, *path: str) -> Any:
    """The value at ``spec.<path>`` or None: a small reader for schema-valid specs."""
    node: Any = manifest.spec
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node
