"""Checks of CustomModel weights on this machine: ``spec.path`` must name a regular file or a
folder of regular files whose real paths (links resolved) stay under the Stack's folder or a
folder its ``spec.weightsRoots`` lists.

A set-level check: the allowed folders come from the Stack. Each refusal points at the
``path:`` value, says what the path resolves to and what to do; no file is opened (we look at
names and ``stat`` only), so nothing of its content can be echoed. Without a valid Stack we only
say whether the path exists: the rest is checked once there is one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from aimodels.errors import Diagnostic, error
from aimodels.manifest.checks import field
from aimodels.manifest.header import Manifest
from aimodels.model.desired import allowed_folders
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.weights.source import WeightsPathError, is_url, weights_files

_PATH = ("spec", "path")


def check_weights(manifests: Sequence[Manifest], stack: Manifest | None) -> list[Diagnostic]:
    """A diagnostic per CustomModel whose local weights cannot be read, or may not be."""
    roots = _roots(stack) if stack is not None and stack.valid else None
    out = []
    for m in manifests:
        raw = field(m, "path") if m.valid and m.kind == CUSTOM_MODEL else None
        if isinstance(raw, str) and raw and not is_url(raw):
            problem = _problem(m, raw, roots)
            out += [problem] if problem is not None else []
    return out


def _roots(stack: Manifest) -> tuple[Path, ...]:
    entries = field(stack, "weightsRoots") or ()
    return allowed_folders(stack.doc.input.path.parent, [str(e) for e in entries])


def _problem(m: Manifest, raw: str, roots: tuple[Path, ...] | None) -> Diagnostic | None:
    try:
        root = (m.doc.input.path.parent / raw).resolve()
        if not root.exists():
            return _not_found(m, raw)
    # exists() raises what is not "no such file": a name too long, a NUL byte, a link loop.
    except (OSError, ValueError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return error(f"weights path cannot be used: {reason}",
                     "Point spec.path at a weights file or folder, or an https:// URL.",
                     source=m.doc.at(_PATH), path="spec.path", address=m.address)
    if roots is None:
        return None
    try:
        weights_files(root, roots)
    except WeightsPathError as refused:
        return error(refused.message, refused.hint, source=m.doc.at(_PATH), path="spec.path",
                     address=m.address)
    return None


def _not_found(m: Manifest, raw: str) -> Diagnostic:
    shown = os.path.normpath(os.path.join(os.path.dirname(m.doc.file), raw))
    return error(f"weights not found: '{raw}'",
                 f"spec.path is relative to the manifest's folder, so it means {shown}, which "
                 "does not exist. Point it at a weights file or folder, or an https:// URL.",
                 source=m.doc.at(_PATH), path="spec.path", address=m.address)
