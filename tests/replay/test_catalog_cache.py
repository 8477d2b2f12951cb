"""The on-disk cache of location models (``aimodels.live.catalog_cache``): a real region's
models are ~700 KB, read once an hour at most; quota is never cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from real_azure import ReplayAzure, derived, recorded_body, serve
from test_replay_cli import EU_STACK, run, stack_dir

from aimodels.live.catalog_cache import CatalogCache, catalog_cache_for


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_used_until_it_is_older_than_the_ttl(tmp_path: Path):
    clock = Clock()
    cache = CatalogCache(tmp_path, 60, clock)
    assert cache.get("k") is None
    cache.put("k", [{"model": {"name": "gpt-4o"}}])
    clock.now += 59
    assert cache.get("k") == [{"model": {"name": "gpt-4o"}}]
    clock.now += 1
    assert cache.get("k") is None
    assert cache.get("other") is None


def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path: Path):
    cache = CatalogCache(tmp_path, 60, Clock())
    cache.put("k", [1])
    [entry] = (tmp_path / "catalog").glob("*.json")
    entry.write_text("{not json")
    assert cache.get("k") is None
    entry.write_text(json.dumps({"key": "another key", "fetchedAt": 1e6, "items": [2]}))
    assert cache.get("k") is None


@pytest.mark.parametrize(("origin", "env", "where"), [
    pytest.param(None, {"HOME": "/h"}, "/h/.cache/aimodels", id="azure-default"),
    pytest.param(None, {"XDG_CACHE_HOME": "/x"}, "/x/aimodels", id="xdg"),
    pytest.param(None, {"AIMODELS_CACHE_DIR": "/c"}, "/c", id="explicit"),
    pytest.param(None, {"AIMODELS_CATALOG_TTL": "0"}, None, id="ttl-0-is-off"),
    pytest.param("http://127.0.0.1:1", {}, None, id="endpoint-override-is-off"),
    pytest.param("http://127.0.0.1:1", {"AIMODELS_CACHE_DIR": "/c"}, "/c", id="unless-asked"),
])
def test_where_the_cache_lives(monkeypatch, origin, env, where):
    monkeypatch.setenv("HOME", env.get("HOME", "/h"))
    cache = catalog_cache_for(origin, Clock(), env)
    assert (None if cache is None else str(cache.directory)) == where


def test_availability_twice_reads_the_region_once_and_quota_twice(capsys, monkeypatch,
                                                                  tmp_path: Path):
    monkeypatch.setenv("AIMODELS_CACHE_DIR", str(tmp_path / "cache"))
    replay = ReplayAzure()
    replay.add_account(derived("account_westeurope"))
    replay.location_models["westeurope"] = \
        recorded_body("cli_location_models_westeurope_2025-09-01")["value"]
    replay.usages["westeurope"] = recorded_body("cli_usages_westeurope_2025-09-01")["value"]
    folder = stack_dir(tmp_path, EU_STACK)
    with serve(replay):
        outputs = []
        for _ in range(2):
            code, out, err = run(capsys, replay, folder, "availability", "gpt-4o", "--version",
                                 "2024-11-20", "--sku", "GlobalStandard", "-o", "json")
            assert code == 0, err
            outputs.append(json.loads(out))
    assert outputs[0] == outputs[1] and outputs[0]["available"] is True
    assert len(replay.calls("GET", r"/locations/westeurope/models$")) == 1
    assert len(replay.calls("GET", r"/locations/westeurope/usages$")) == 2
    assert list((tmp_path / "cache" / "catalog").glob("*.json"))
