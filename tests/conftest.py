"""Shared fixtures: an isolated environment for every test (no ambient Azure or aimodels vars),
and no secret value registered by one test left to scrub another's output."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aimodels.transport.redact import forget_secrets

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


@pytest.fixture(autouse=True)
def no_known_secrets() -> Iterator[None]:
    """Each test starts with an empty secret registry, as each command of the CLI does."""
    forget_secrets()
    yield
    forget_secrets()
