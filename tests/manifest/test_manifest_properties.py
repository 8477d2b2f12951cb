"""Properties of the loader over generated input: whatever the text, it returns a LoadResult or
raises ManifestError (never anything else), and every diagnostic points into a file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimodels.errors import ManifestError
from aimodels.manifest.load import LoadResult, load_manifests

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
    "hf_" + "a" * 24]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=12), st.dates())
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
