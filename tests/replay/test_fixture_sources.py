"""Every real body in tests/fixtures/azure names where it came from (sources.json)."""

from __future__ import annotations

import json
import re

from real_azure import FIXTURES


def test_every_fixture_has_a_source_and_every_source_a_fixture():
    sources = json.loads((FIXTURES / "sources.json").read_text())
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json")} - {"sources.json"}
    assert files == set(sources)
    for name, source in sources.items():
        assert source["repository"] in ("Azure/azure-rest-api-specs", "Azure/azure-cli"), name
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name
        assert source["path"] and source["note"], name
        if name.startswith("derived/"):
            assert source["note"].startswith("EDITED"), name
