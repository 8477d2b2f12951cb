"""The header of a document (``apiVersion``, ``kind``, ``metadata.name``): is it ours, which kind?

The rule for documents that are not aimodels manifests (a GitHub workflow or a Kubernetes
manifest beside ours): a document is ours when its apiVersion starts with ``aimodels/`` or its
kind is one of our kinds (in any letter case). Other documents are ignored with a warning when a
folder scan found them, and are an error in a file named with ``-f``. A document that is not a
mapping yet mentions ``aimodels/`` (a YAML list of manifests, a manifest indented into a string)
is an error wherever it is: it was meant as manifests, and skipping it would drop resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimodels.errors import Diagnostic, error, warning
from aimodels.manifest.explain import did_you_mean
from aimodels.manifest.schemas import find_kind
from aimodels.manifest.yamldoc import YamlDocument
from aimodels.model.kinds import ALL_KINDS, API_VERSION


@dataclass(frozen=True, slots=True)
class Manifest:
    """A document that is an aimodels manifest of a known kind.

    ``name`` is ``metadata.name`` when it is a string (else None); ``valid`` is False once any
    error was found in this document, so set-level checks can skip what they cannot trust.
    """

    doc: YamlDocument
    kind: str
    name: str | None
    valid: bool = True

    @property
    def address(self) -> str:
        """``Kind/name`` for messages; just the kind while the name is unknown."""
        return f"{self.kind}/{self.name}" if self.name else self.kind

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.doc.data.get("spec")
        return spec if isinstance(spec, Mapping) else {}


def classify(doc: YamlDocument) -> tuple[Manifest | None, list[Diagnostic]]:
    """The manifest a document is, with header diagnostics; None for foreign or kindless ones."""
    data = doc.data
    if not isinstance(data, Mapping) and _mentions_ours(data):
        return None, [_not_a_mapping(doc)]
    if not _is_ours(data):
        return None, [_foreign(doc)]
    kind, diagnostics = _kind(doc, data.get("kind"))
    diagnostics += _api_version(doc, data.get("apiVersion"))
    if kind is None:
        return None, diagnostics
    name = _name(data)
    return Manifest(doc, kind, name, valid=not diagnostics), [
        _with_address(d, f"{kind}/{name}" if name else kind) for d in diagnostics]


def _is_ours(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    api, kind = data.get("apiVersion"), data.get("kind")
    return (isinstance(api, str) and api.startswith("aimodels/")) or (
        isinstance(kind, str) and find_kind(kind) is not None)


def _mentions_ours(data: Any) -> bool:
    """Whether a value holds a manifest or the text ``aimodels/`` anywhere inside it."""
    if isinstance(data, str):
        return "aimodels/" in data
    if isinstance(data, Mapping):
        return _is_ours(data) or any(_mentions_ours(v) for v in data.values())
    if isinstance(data, list):
        return any(_mentions_ours(item) for item in data)
    return False


def _not_a_mapping(doc: YamlDocument) -> Diagnostic:
    shape = "a list" if isinstance(doc.data, list) else "not a mapping"
    how = ("Each manifest is a YAML document of its own: remove the leading '- ' (and the "
           "indentation it adds) and separate the manifests with a line '---'."
           if isinstance(doc.data, list) else
           "A manifest is a mapping of apiVersion, kind, metadata and spec; check the "
           "indentation and the quotes of this document.")
    return error(f"a document that mentions {API_VERSION} but is {shape}", how,
                 source=doc.start)


def _foreign(doc: YamlDocument) -> Diagnostic:
    data = doc.data
    found = ""
    if isinstance(data, Mapping) and ("apiVersion" in data or "kind" in data):
        found = f" (apiVersion {data.get('apiVersion')!r}, kind {data.get('kind')!r})"
    summary = f"not an aimodels manifest{found}"
    rule = (f"aimodels documents start with apiVersion: {API_VERSION} and a kind: "
            f"{', '.join(ALL_KINDS)}.")
    if doc.input.explicit:
        return error(summary, f"{rule} This file was named with -f, so it must hold manifests.",
                     source=doc.start)
    return warning(f"{summary}; ignored", f"{rule} Documents without them are skipped in "
                   "folder scans.", source=doc.start)


def _kind(doc: YamlDocument, raw: Any) -> tuple[str | None, list[Diagnostic]]:
    kinds = ", ".join(ALL_KINDS)
    if raw is None:
        return None, [error("missing kind", f"Add kind: one of {kinds}.", source=doc.start)]
    where = doc.at(("kind",))
    if not isinstance(raw, str):
        return None, [error("kind must be a string", f"One of {kinds}.", source=where, path="kind")]
    found = find_kind(raw)
    if found == raw:
        return found, []
    if found is not None:
        return found, [error(f"kind '{raw}' must be written '{found}'", "Kinds are case-sensitive.",
                             source=where, path="kind")]
    guess = did_you_mean(raw, ALL_KINDS)
    summary = f"unknown kind '{raw}'" + (f"; did you mean '{guess}'?" if guess else "")
    return None, [error(summary, f"The kinds of {API_VERSION} are {kinds}.", source=where,
                        path="kind")]


def _api_version(doc: YamlDocument, raw: Any) -> list[Diagnostic]:
    if raw == API_VERSION:
        return []
    if raw is None:
        return [error("missing apiVersion", f"Add apiVersion: {API_VERSION} as the first line.",
                      source=doc.start)]
    where = doc.at(("apiVersion",))
    if isinstance(raw, str) and raw.startswith("aimodels/"):
        return [error(f"unsupported apiVersion '{raw}'", f"This aimodels reads {API_VERSION}.",
                      source=where, path="apiVersion")]
    return [error(f"apiVersion '{raw}' is not an aimodels version", f"Write apiVersion: "
                  f"{API_VERSION}.", source=where, path="apiVersion")]


def _name(data: Mapping[str, Any]) -> str | None:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) and name else None


def _with_address(diag: Diagnostic, address: str) -> Diagnostic:
    return replace(diag, address=address)
