"""Run by tests/service/test_manifest_load.py in a fresh interpreter (one thread, so the
manifests load in a forked child): ``python load_probe.py MODE FOLDER``; prints one JSON line.

MODE ``plain`` loads; ``child-dies`` makes the child die in the middle of the load (its loader
exits the process), so the parent must load again itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from aimodels.errors import ManifestError
from aimodels.manifest import load as loader
from aimodels.service.manifest_load import ManifestLoad
from aimodels.transport.redact import registered_secrets, scrub_secrets


def main(mode: str, folder: str) -> dict[str, Any]:
    parent = os.getpid()
    if mode == "child-dies":
        load = loader.load_manifests

        def dying(*args: Any, **kwargs: Any) -> Any:
            if os.getpid() != parent:
                os._exit(9)
            return load(*args, **kwargs)

        loader.load_manifests = dying  # type: ignore[assignment]
    manifests = ManifestLoad.start([folder], env=os.environ, strict_env=True)

    async def wait() -> tuple[Any, Any]:
        return await manifests.stack(), await manifests.result()

    report: dict[str, Any] = {"in_child": manifests.in_child}
    try:
        stack, result = asyncio.run(wait())
    except ManifestError as exc:
        report["error"] = [str(exc), *(f"{d.source}: {d.summary}: {d.detail}"
                                        for d in exc.diagnostics)]
    else:
        report["stack"] = stack.name if stack else None
        report["addresses"] = sorted(str(a) for a in result.desired.resources)
        report["warnings"] = [w.summary for w in result.warnings]
    finally:
        manifests.close()
    report["secrets"] = list(registered_secrets())
    report["scrubbed"] = scrub_secrets(os.environ.get("HF_TOKEN", ""))
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
