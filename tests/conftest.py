"""Shared fixtures: an isolated environment for every test (no ambient Azure or aimodels vars)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

_LEAKY_PREFIXES = ("AIMODELS_", "AZURE_", "HF_", "NO_COLOR", "FORCE_COLOR")


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Run each test without variables that change aimodels' behaviour, then restore them."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(_LEAKY_PREFIXES):
            del os.environ[key]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
