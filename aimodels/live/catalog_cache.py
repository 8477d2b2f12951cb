"""An on-disk cache of Foundry location models, so repeated runs do not download them again.

A region's location models are one page of about 700 KB against real Azure (tests/fixtures/azure
has a recorded one), and they change when Microsoft ships or retires a model, not between two
runs of ``plan``. Seed 004 caches them for an hour; so do we, per subscription, region and
origin. Quota (usages, modelCapacities) is never cached: it moves with every deployment.

Where: ``$AIMODELS_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/aimodels``, else
``~/.cache/aimodels``; the entries are ``catalog/<sha256>.json``. ``AIMODELS_CATALOG_TTL``
(seconds, default 3600) sets how long an entry is used; ``0`` turns the cache off. Deleting the
folder clears it. Against an endpoint override (the emulator, tests) the cache is off unless
``AIMODELS_CACHE_DIR`` is set, so an emulator's catalog never leaks into another run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Seed 004's cache duration for location models.
DEFAULT_TTL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CatalogCache:
    """Cached location-model lists in ``directory``, used while younger than ``ttl`` seconds."""

    directory: Path
    ttl: float
    clock: Callable[[], float]

    def get(self, key: str) -> list[Any] | None:
        """The items cached under ``key``, or None when absent, stale or unreadable."""
        try:
            entry = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        fresh = isinstance(entry, dict) and entry.get("key") == key and \
            0 <= self.clock() - float(entry.get("fetchedAt", 0)) < self.ttl
        items = entry.get("items") if fresh else None
        return items if isinstance(items, list) else None

    def put(self, key: str, items: list[Any]) -> None:
        """Store ``items`` under ``key`` (atomically; a cache that cannot be written is
        skipped: it only saves time)."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch = path.with_suffix(f".{os.getpid()}.tmp")
            scratch.write_text(json.dumps({"key": key, "fetchedAt": self.clock(),
                                           "items": items}))
            os.replace(scratch, path)
        except OSError:
            return

    def _path(self, key: str) -> Path:
        return self.directory / "catalog" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def catalog_cache_for(origin: str | None, clock: Callable[[], float],
                      environ: Mapping[str, str] | None = None) -> CatalogCache | None:
    """The cache the environment asks for (see the module docstring), or None when off."""
    env = os.environ if environ is None else environ
    try:
        ttl = float(env.get("AIMODELS_CATALOG_TTL", DEFAULT_TTL_SECONDS))
    except ValueError:
        ttl = DEFAULT_TTL_SECONDS
    explicit = env.get("AIMODELS_CACHE_DIR")
    if ttl <= 0 or (origin is not None and not explicit):
        return None
    if explicit:
        directory = Path(explicit)
    elif env.get("XDG_CACHE_HOME"):
        directory = Path(env["XDG_CACHE_HOME"]) / "aimodels"
    else:
        directory = Path.home() / ".cache" / "aimodels"
    return CatalogCache(directory, ttl, clock)
