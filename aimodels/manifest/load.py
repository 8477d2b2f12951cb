"""``load_manifests``: YAML files in, a DesiredState out, or every problem at once.

The phases, each collecting diagnostics rather than stopping at the first:
1. discover the files (``-f`` paths; folders scanned recursively);
2. read each file into YAML documents that remember ``file:line:col`` (yamldoc);
3. classify each document (ours? which kind?) and check it alone: literal secrets, schema,
   semantic rules (header, checks);
4. check the set: one Stack, duplicate addresses, references, parents (crosscheck), and the
   CustomModel weights on disk against the Stack's folders (weights);
5. build the DesiredState, then look for dependency cycles (build, graph).
Every diagnostic is scrubbed of secret values before it leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aimodels.errors import Diagnostic, ManifestError, Severity, SourceLocation, error, has_errors
from aimodels.manifest.build import build_desired
from aimodels.manifest.checks import check_document
from aimodels.manifest.crosscheck import check_set
from aimodels.manifest.discover import ManifestInput, discover
from aimodels.manifest.graph import cycle_diagnostics
from aimodels.manifest.header import Manifest, classify
from aimodels.manifest.secrets import scrub
from aimodels.manifest.weights import check_weights
from aimodels.manifest.yamldoc import YamlDocument, read_documents
from aimodels.model.desired import DesiredState


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A valid manifest set: the desired state, and the warnings found on the way (unset
    credential variables with ``strict_env=False``, skipped foreign documents...)."""

    desired: DesiredState
    warnings: tuple[Diagnostic, ...]


def load_manifests(paths: Sequence[str], *, env: Mapping[str, str],
                   strict_env: bool) -> LoadResult:
    """Load, validate and resolve the manifests under ``paths`` (default: the current folder).

    ``env`` is where ``credential.fromEnv`` variables are looked up; with ``strict_env`` an
    unset one is an error (plan, apply), else a warning (validate). Raises ManifestError with
    every error and warning, sorted by file and line, when anything is wrong.
    """
    inputs, diagnostics = discover(list(paths) or ["."])
    documents, complete = _read_all(inputs, diagnostics)
    manifests, secrets = _check_documents(documents, env, strict_env, diagnostics)
    if not manifests and not has_errors(diagnostics):
        diagnostics.append(_nothing_found(paths))
    stack, found = check_set(manifests, complete=complete)
    diagnostics += found + check_weights(manifests, stack)
    desired = None
    if not has_errors(diagnostics) and stack is not None:
        desired = build_desired(manifests, stack)
        diagnostics += cycle_diagnostics(desired)
    diagnostics = sorted(scrub(diagnostics, secrets), key=Diagnostic.sort_key)
    if desired is None or has_errors(diagnostics):
        raise _invalid(diagnostics)
    warnings = tuple(d for d in diagnostics if d.severity is Severity.WARNING)
    return LoadResult(desired, warnings)


def _read_all(inputs: Sequence[ManifestInput],
              diagnostics: list[Diagnostic]) -> tuple[list[YamlDocument], bool]:
    """Every document of every file; ``complete`` is False when some file was unreadable."""
    documents: list[YamlDocument] = []
    complete = not has_errors(diagnostics)
    for item in inputs:
        docs, problems = read_documents(item)
        documents += docs
        diagnostics += problems
        complete = complete and not (has_errors(problems) and not docs)
    return documents, complete


def _check_documents(documents: Sequence[YamlDocument], env: Mapping[str, str], strict_env: bool,
                     diagnostics: list[Diagnostic]) -> tuple[list[Manifest], list[str]]:
    manifests: list[Manifest] = []
    secrets: list[str] = []
    for doc in documents:
        manifest, found = classify(doc)
        diagnostics += found
        if manifest is None:
            continue
        checked = check_document(manifest, env, strict_env)
        diagnostics += checked.diagnostics
        manifests.append(checked.manifest)
        secrets += checked.secrets
    return manifests, secrets


def _nothing_found(paths: Sequence[str]) -> Diagnostic:
    shown = ", ".join(paths) if paths else "."
    return error(f"no aimodels manifests in {shown}",
                 "aimodels reads YAML documents with apiVersion: aimodels/v1; none were found. "
                 "Pass the manifest folder with -f, e.g. aimodels validate -f examples/quickstart.",
                 source=SourceLocation(paths[0] if paths else "."))


def _invalid(diagnostics: Sequence[Diagnostic]) -> ManifestError:
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    files = {d.source.file for d in errors if d.source}
    noun = "error" if len(errors) == 1 else "errors"
    where = f" in {len(files)} file{'s' if len(files) != 1 else ''}" if files else ""
    return ManifestError(f"the manifests are invalid: {len(errors)} {noun}{where}",
                         hint="fix them and run `aimodels validate` again (no Azure calls)",
                         diagnostics=tuple(diagnostics))
