"""Properties of the loader over generated input: whatever the text, it returns a LoadResult or
raises ManifestError (never anything else), and every diagnostic points into a file."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimodels.errors import ManifestError, SourceLocation
from aimodels.manifest.discover import ManifestInput
from aimodels.manifest.load import LoadResult, load_manifests
from aimodels.manifest.yamldoc import format_path, read_documents

STACK = """apiVersion: aimodels/v1
kind: Stack
metadata: {name: fuzz}
spec: {target: local, subscriptionId: 00000000-0000-0000-0000-000000000000,
       resourceGroup: rg-fuzz, location: eastus, aiManager: fuzz, foundryAccount: fuzz-foundry}
"""
HEADERS = ["", "apiVersion: aimodels/v1\nkind: ModelDeployment\n",
           "apiVersion: aimodels/v1\nkind: FoundryDeployment\nmetadata: {name: x}\n",
           "apiVersion: aimodels/v1\nkind: ModelSource\nmetadata: {name: s}\nspec:\n  "]
TOKENS = list(":-[]{}&*!|>'\"#?,%@`~\n\t .0129aeklnsvxyz_/\\") + [
    "\u00e9", "\ufeff", "\x00", "\ud800", "<<", "---", "...", ": ", "\n  ", "spec", "name", "&a",
    "*a", "!!set", "!!binary", "!!python/name:os.system", "2024-11-20", "credential", "value",
    "hf_" + "a" * 24, "9" * 4400]  # a number longer than Python converts
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=12), st.dates(),
                    # paths no file system takes: a name too long, a NUL byte
                    st.sampled_from(["a" * 300, "w\x00x", "../" * 40]))
KEYS = st.one_of(st.sampled_from(["namespace", "model", "catalog", "custom", "vmSize", "scale",
                                  "replicas", "autoscale", "minReplicas", "maxReplicas",
                                  "lifecycle", "ignoreChanges", "credential", "fromEnv", "sku",
                                  "name", "capacity", "path", "format", "overrides", "account"]),
                 st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=25)
KINDS = st.sampled_from(["Stack", "ModelSource", "CustomModel", "ModelDeployment",
                         "FoundryDeployment", "modeldeployment", "Nope"])


def load_text(files: dict[str, str | bytes]) -> LoadResult | ManifestError:
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            path = Path(folder) / name
            (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        try:
            return load_manifests([folder], env={}, strict_env=False)
        except ManifestError as exc:
            assert exc.diagnostics, "a ManifestError always lists its diagnostics"
            assert all(d.source is not None for d in exc.diagnostics)
            return exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(HEADERS), body=YAMLISH)
def test_arbitrary_yamlish_text_only_ever_raises_manifest_error(header: str, body: str) -> None:
    load_text({"stack.yaml": STACK, "fuzz.yaml": (header + body).encode("utf-8", "surrogatepass")})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=KINDS, name=st.one_of(st.none(), st.text(max_size=70), st.integers()),
       spec=VALUES, extra=st.dictionaries(st.text(max_size=8), VALUES, max_size=2))
def test_arbitrary_documents_only_ever_raise_manifest_error(kind: str, name: Any, spec: Any,
                                                            extra: dict[str, Any]) -> None:
    document = {"apiVersion": "aimodels/v1", "kind": kind, "metadata": {"name": name},
                "spec": spec, **extra}
    text = yaml.safe_dump(document, allow_unicode=True)
    load_text({"stack.yaml": STACK, "fuzz.yaml": text})


# --- read_documents builds the values itself: the same as PyYAML's SafeConstructor -------------

def _reference_spots(root: yaml.Node, display: str) -> tuple[dict[Any, Any], list[str]]:
    """The spots and duplicate keys of the stack-based walk read_documents used before it built
    the values in the same walk (the oracle for order, locations and duplicates)."""
    spots: dict[Any, Any] = {}
    duplicates: list[str] = []
    pending: list[tuple[yaml.Node, tuple[Any, ...], Any]] = [(root, (), None)]
    while pending:
        node, path, key_loc = pending.pop()
        raw = node.value if isinstance(node, yaml.ScalarNode) else None
        where = SourceLocation(display, node.start_mark.line + 1, node.start_mark.column + 1)
        spots[path] = (where, key_loc, raw)
        if isinstance(node, yaml.SequenceNode):
            pending += [(child, (*path, i), None) for i, child in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                mark = key_node.start_mark
                if key_node.value in seen:
                    duplicates.append(format_path((*path, key_node.value)))
                seen.add(key_node.value)
                pending.append((value_node, (*path, key_node.value),
                                SourceLocation(display, mark.line + 1, mark.column + 1)))
    return spots, duplicates


def _same_values(a: Any, b: Any, shared: dict[int, int]) -> bool:
    """Equal with the same types all the way down (NaN equal to NaN), and sharing objects
    where the other shares them (an alias is the same object on both sides)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict | list):
        if shared.setdefault(id(a), id(b)) != id(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(_same_values(a[k], b[k], shared) for k in a)
        return len(a) == len(b) and all(_same_values(x, y, shared)
                                        for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


ALIASED = VALUES.flatmap(lambda shared: st.dictionaries(
    KEYS, st.one_of(st.just(shared), VALUES), min_size=1, max_size=4))
MERGES = ["base: &b {x: 1, y: [2]}\nitem:\n  <<: *b\n  y: 3\n", "a: !!set {x, y}\n",
          "d: 2024-11-20\nl: [1, 0x1f, 1_000, .inf, ~, yes, Off, '1', 1.5e3, 0o17]\n",
          "a: &x [1, 2]\nb: *x\nc: {k: *x, k: 2, 3: 4, null: 5, true: 6}\n",
          "spec:\n  a: 1\n  a: 2\n  b: {c: 1, c: 2}\nmetadata:\n  d: 1\n  d: 2\n",
          "? [1, 2]\n: x\n", "a: !custom 1\n", "a: !!str 1\nb: !!int '7'\n",
          "--- 1\n--- [a]\n---\n--- {x: !!binary aGk=}\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(
    st.sampled_from(MERGES),
    st.lists(st.one_of(ALIASED, VALUES), min_size=1, max_size=3).map(
        lambda docs: yaml.safe_dump_all(docs, allow_unicode=True)),
    st.tuples(st.sampled_from(HEADERS), YAMLISH).map("".join),
    st.lists(st.sampled_from(MERGES), min_size=2, max_size=3).map("".join)))
def test_read_documents_builds_what_pyyaml_builds_with_the_same_spots(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        docs, diagnostics = read_documents(ManifestInput(path, "m.yaml", explicit=True))
        try:
            loader = yaml.CSafeLoader(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError:
            assert diagnostics
            return
        try:
            expected, nodes = [], []
            while loader.check_node():
                node = loader.get_node()
                nodes.append(_reference_spots(node, "m.yaml"))
                expected.append(loader.construct_document(node))
        except (yaml.YAMLError, RecursionError):
            assert diagnostics  # PyYAML refuses it: so do we
            return
        except ValueError:  # a number longer than Python converts: PyYAML fails, we say so
            assert diagnostics or any("characters long" in problem.summary
                                      for doc in docs for problem in doc.problems)
            return
        finally:
            loader.dispose()
    if diagnostics:  # refused for its size or depth, which PyYAML does not check
        assert docs == []
        return
    kept = [(value, found) for value, found in zip(expected, nodes, strict=True)
            if value is not None]
    assert len(docs) == len(kept)
    for doc, (value, (spots, duplicates)) in zip(docs, kept, strict=True):
        assert _same_values(doc.data, value, {})
        assert [(path, (spot.value, spot.key, spot.raw)) for path, spot in doc.spots.items()] \
            == list(spots.items())
        assert [p.path for p in doc.problems] == duplicates
