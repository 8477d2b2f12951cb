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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aimodels.errors import Diagnostic, ManifestError, Severity, SourceLocation, error, has_errors
from aimodels.manifest.build import build_desired, build_stack
from aimodels.manifest.checks import check_document
from aimodels.manifest.crosscheck import check_set
from aimodels.manifest.discover import ManifestInput, discover
from aimodels.manifest.graph import cycle_diagnostics
from aimodels.manifest.header import Manifest, classify
from aimodels.manifest.secrets import scrub
from aimodels.manifest.weights import check_weights
from aimodels.manifest.yamldoc import YamlDocument, read_documents
from aimodels.model.desired import DesiredState, Stack
from aimodels.model.kinds import STACK

#: Called with the Stack as soon as one is read and valid on its own, before the other
#: documents are read and checked: the Stack says where the state and Azure are, so a caller
#: can start its reads while the rest is checked. It may be another Stack than the one of the
#: finished set (a second Stack, an invalid set): only a speculation, never a result.
StackHook = Callable[[Stack], None]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A valid manifest set: the desired state, and the warnings found on the way (unset
    credential variables with ``strict_env=False``, skipped foreign documents...)."""

    desired: DesiredState
    warnings: tuple[Diagnostic, ...]


def load_manifests(paths: Sequence[str], *, env: Mapping[str, str], strict_env: bool,
                   on_stack: StackHook | None = None) -> LoadResult:
    """Load, validate and resolve the manifests under ``paths`` (default: the current folder).

    ``env`` is where ``credential.fromEnv`` variables are looked up; with ``strict_env`` an
    unset one is an error (plan, apply), else a warning (validate). Raises ManifestError with
    every error and warning, sorted by file and line, when anything is wrong. ``on_stack``: see
    ``StackHook``; the result and the diagnostics are the same with or without it.
    """
    inputs, diagnostics = discover(list(paths) or ["."])
    early = _EarlyStack(on_stack, env, strict_env) if on_stack else None
    documents, complete = _read_all(inputs, diagnostics, early)
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


def _read_all(inputs: Sequence[ManifestInput], diagnostics: list[Diagnostic],
              early: _EarlyStack | None) -> tuple[list[YamlDocument], bool]:
    """Every document of every file; ``complete`` is False when some file was unreadable.

    With ``early``, files that may hold the Stack are read first (the documents keep the order
    of the files), so that it is known before the bulk of the YAML is parsed.
    """
    order = range(len(inputs)) if early is None else _stack_files_first(inputs)
    read: dict[int, tuple[list[YamlDocument], list[Diagnostic]]] = {}
    for index in order:
        read[index] = read_documents(inputs[index])
        if early is not None:
            early.offer(read[index][0])
    documents: list[YamlDocument] = []
    complete = not has_errors(diagnostics)
    for index in range(len(inputs)):
        docs, problems = read[index]
        documents += docs
        diagnostics += problems
        complete = complete and not (has_errors(problems) and not docs)
    return documents, complete


_STACK_KIND = re.compile(rb"^\s*kind\s*:\s*[\"']?Stack\b", re.MULTILINE)


def _stack_files_first(inputs: Sequence[ManifestInput]) -> list[int]:
    """The files' indexes, those whose text has a ``kind: Stack`` line first. Only an order:
    a file that cannot be read here is read (and reported) in its turn."""
    def maybe_stack(index: int) -> bool:
        try:
            return _STACK_KIND.search(inputs[index].path.read_bytes()) is not None
        except OSError:
            return False

    return sorted(range(len(inputs)), key=lambda index: not maybe_stack(index))


class _EarlyStack:
    """Hands the first Stack document that is valid on its own to the loader's ``on_stack``,
    once. Its checks are repeated with the set's (one document: microseconds), so nothing it
    finds changes what the loader reports."""

    def __init__(self, hook: StackHook, env: Mapping[str, str], strict_env: bool) -> None:
        self._hook: StackHook | None = hook
        self._env = env
        self._strict_env = strict_env

    def offer(self, documents: Sequence[YamlDocument]) -> None:
        """Look for the Stack among ``documents`` (until one was handed over)."""
        for doc in documents:
            if self._hook is None:
                return
            manifest, found = classify(doc)
            if manifest is None or manifest.kind != STACK or has_errors(found):
                continue
            checked = check_document(manifest, self._env, self._strict_env)
            if checked.manifest.valid and not has_errors(checked.diagnostics):
                hook, self._hook = self._hook, None
                hook(build_stack(checked.manifest))


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
