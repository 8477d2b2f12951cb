"""Fixtures for the azureblob state backend: Azurite (``tests/emulator/azurite.py``), a fresh
container per test, and the connection string in the environment (as a team sets it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

for helpers in ("emulator", "apply", "e2e"):  # azurite, apply_crash_support, e2e_support
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / helpers))

from azurite import AzuriteBlob, azurite_blob  # noqa: E402, F401  (the fixture)
from blobstate_support import Team, new_team  # noqa: E402


@pytest.fixture
def team(azurite_blob: AzuriteBlob, monkeypatch: pytest.MonkeyPatch) -> Team:  # noqa: F811
    """An empty container in Azurite, with AZURE_STORAGE_CONNECTION_STRING set for it."""
    found = new_team(azurite_blob)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", found.connection_string)
    return found
