"""The floor of ``aimodels plan``: the least a Python program over httpx must do to read the live
state of a Stack's resources, and nothing else. ``plan_refresh.py`` times it as a whole process,
in the same rounds as ``plan`` and the refresh, so its ratio is the best any plan written this
way could reach on the machine at that moment.

    AIMODELS_ENDPOINT=http://127.0.0.1:PORT python benchmarks/list_floor.py STATE_FILE [PARALLEL]

What it does, and what it leaves out:

- starts the interpreter and imports httpx (its command-line tool blocked, as ``aimodels``
  does), nothing of aimodels;
- reads the state file with ``json`` (no schema) and takes the parent collection of each
  resource id;
- opens one ``httpx.AsyncClient``; over plain http with a TLS context that holds no CA bundle
  (loading certifi's costs ~20 ms and plain http never uses it);
- lists every collection, largest first, ``PARALLEL`` requests at a time (10, the default of
  ``aimodels plan --parallelism``), following each ``nextLink`` as it comes;
- exits 1 unless every resource id of the state was listed.

No manifests (YAML, schema, rules), no planning, no pre-flight, no output.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import ssl  # noqa: E402
from collections import Counter  # noqa: E402

import httpx  # noqa: E402

TOKEN = "aimodels-local-dev-token"
API_VERSIONS = {"microsoft.containerservice": "2026-08-02-preview",
                "microsoft.cognitiveservices": "2025-09-01"}


def collections(resource_ids: list[str]) -> list[str]:
    """The parent collection path of each resource id, the largest first."""
    sizes = Counter(rid.rsplit("/", 1)[0] for rid in resource_ids)
    return [path for path, _ in sizes.most_common()]


async def list_all(endpoint: str, paths: list[str], parallel: int) -> set[str]:
    """The lower-cased id of every item of every collection in ``paths``."""
    slots = asyncio.Semaphore(parallel)
    verify: ssl.SSLContext | bool = (ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                                     if endpoint.startswith("http:") else True)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=endpoint, headers=headers, verify=verify) as client:
        async def pages(path: str) -> list[str]:
            provider = path.split("/providers/")[1].split("/")[0].lower()
            url: str | None = path
            params: dict[str, str] | None = {"api-version": API_VERSIONS[provider]}
            found: list[str] = []
            while url:
                async with slots:
                    response = await client.get(url, params=params)
                response.raise_for_status()
                body = response.json()
                found += [item["id"].lower() for item in body["value"]]
                url, params = body.get("nextLink"), None
            return found

        listed = await asyncio.gather(*(pages(path) for path in paths))
    return {rid for found in listed for rid in found}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as file:
        resource_ids = [entry["resourceId"] for entry in json.load(file)["resources"]]
    parallel = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    listed = asyncio.run(list_all(os.environ["AIMODELS_ENDPOINT"], collections(resource_ids),
                                  parallel))
    missing = [rid for rid in resource_ids if rid.lower() not in listed]
    if missing:
        print(f"{len(missing)} resources not listed, e.g. {missing[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
