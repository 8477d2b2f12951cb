"""Fixture data the emulator serves: catalog, Foundry models, quota, prices, seeded resources.

The built-in data is every ``fixtures/*.json`` file of the package merged by top-level key (one
file per API family). ``--fixtures FILE`` (JSON or YAML) replaces whole top-level sections: a
user can swap the catalog without restating the quota.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def load(override: Path | None = None) -> dict[str, Any]:
    """The built-in fixtures, with the sections of ``override`` replacing theirs."""
    data: dict[str, Any] = {}
    folder = resources.files("aimodels.emulator") / "fixtures"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            data.update(json.loads(entry.read_text(encoding="utf-8")))
    if override is not None:
        data.update(_read_override(override))
    return data


def _read_override(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        loaded = yaml.safe_load(text)
    else:
        loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: fixtures must be a mapping of sections, got {type(loaded).__name__}")
    return loaded
