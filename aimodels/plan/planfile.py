"""Saved plans (``plan --out FILE``): the Plan's JSON document, written atomically.

A plan file holds no secret (plans never carry one) and records what the plan was made against
(the manifests' digest, the state lineage and serial, each change's live ETag), so ``apply FILE``
can refuse it when any of those has moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aimodels.errors import AimodelsError
from aimodels.plan.values import Plan
from aimodels.state.local import atomic_write
from aimodels.transport.redact import scrub_secrets

#: Marks the file as an aimodels plan, so `apply some.json` with another JSON fails clearly.
FILE_KIND = "aimodels-plan"


def write_plan_file(path: str | Path, plan: Plan) -> None:
    """Write ``plan`` to ``path`` atomically (never half-written)."""
    document = {"kind": FILE_KIND, **plan.to_dict()}
    # A plan carries no secret by design; a service's message quoting one (a pre-flight
    # warning) would, so known secret values are scrubbed as on the terminal.
    data = scrub_secrets(json.dumps(document, sort_keys=True, indent=2)).encode() + b"\n"
    atomic_write(Path(path), data)


def read_plan_file(path: str | Path) -> dict[str, Any]:
    """The saved plan document; a missing, unreadable or foreign file is a clear error."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AimodelsError(f"No plan file at {path}",
                            hint="Save one with `aimodels plan --out FILE`.") from exc
    except (OSError, ValueError) as exc:
        raise AimodelsError(f"{path} is not a readable aimodels plan file: {exc}") from exc
    if not isinstance(document, dict) or document.get("kind") != FILE_KIND:
        raise AimodelsError(f"{path} is not an aimodels plan file",
                            hint="Save one with `aimodels plan --out FILE`.")
    return document
