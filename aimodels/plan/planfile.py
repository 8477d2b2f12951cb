"""Saved plans (``plan --out FILE``): the Plan's JSON document, bound by a digest, written
atomically.

A plan file holds no secret (plans never carry one) and records what the plan was made against
(the manifests' digest, the state lineage and serial, each change's live ETag), so ``apply FILE``
can refuse it when any of those has moved. Its ``digest`` is a sha256 over the canonical JSON
of the rest of the document: ``read_plan_file`` refuses a file whose content no longer matches
it, one of another ``formatVersion``, and one that does not follow ``schemas/plan.schema.json``;
``plan_from_document`` reads the Plan back from a checked document (``Plan.to_dict`` inverted).

The digest is an integrity check, not a signature: it catches a damaged file and a hand edit
that did not recompute it, but anyone who can write the file can recompute it too. That is
why ``apply`` also re-checks every change against ``lifecycle.preventDestroy`` from the current
manifests and state (``apply.protection.refuse_protected_deletes``) before anything is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from aimodels.errors import AimodelsError, Diagnostic, PreconditionError, Severity, SourceLocation
from aimodels.model.address import ResourceAddress
from aimodels.plan.values import (
    FORMAT_VERSION,
    Action,
    Change,
    CostEstimate,
    FieldChange,
    Plan,
    Reason,
)
from aimodels.state.local import atomic_write

#: Marks the file as an aimodels plan, so `apply some.json` with another JSON fails clearly.
FILE_KIND = "aimodels-plan"
DIGEST_PREFIX = "sha256:"
REPLAN_HINT = "Run `aimodels plan --out FILE` again and apply the new plan."


def write_plan_file(path: str | Path, plan: Plan, *, scrub: Callable[[str], str]) -> None:
    """Write ``plan`` to ``path`` atomically (never half-written), with its digest.

    ``scrub`` is the caller's secret filter (``transport.redact.scrub_secrets``), applied to the
    document's JSON text: the planner does not know which values are secret."""
    document: dict[str, Any] = {"kind": FILE_KIND, **plan.to_dict()}
    # A plan carries no secret by design; a service's message quoting one (a pre-flight
    # warning) would, so known secret values are scrubbed as on the terminal, before the digest.
    document = json.loads(scrub(json.dumps(document, allow_nan=False)))
    document["digest"] = document_digest(document)
    data = json.dumps(document, sort_keys=True, indent=2, allow_nan=False).encode() + b"\n"
    try:
        atomic_write(Path(path), data)
    except OSError as exc:
        raise AimodelsError(f"Cannot write the plan file {path}: {exc.strerror or exc}",
                            hint="Pass --out a path in a folder you can write to.") from exc


def document_digest(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``document`` without its ``digest`` key
    (keys sorted, no spaces, ASCII only), so any change to any value changes it.

    Raises ValueError for what JSON cannot hold (NaN) and RecursionError for absurd nesting.
    """
    body = {key: value for key, value in document.items() if key != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return DIGEST_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def read_plan_file(path: str | Path) -> dict[str, Any]:
    """The saved plan document, checked: a missing, unreadable or foreign file is an error
    (exit 1); a file of another ``formatVersion``, edited since it was written, or not
    following the plan schema is refused as a stale plan (PreconditionError, exit 6)."""
    path = Path(path)
    document = _load(path)
    if not isinstance(document, dict) or document.get("kind") != FILE_KIND:
        raise AimodelsError(f"{path} is not an aimodels plan file",
                            hint="Save one with `aimodels plan --out FILE`.")
    version = document.get("formatVersion")
    if version != FORMAT_VERSION:
        raise PreconditionError(
            f"The plan file {path} has formatVersion {version!r}; this aimodels applies plan "
            f"files of formatVersion {FORMAT_VERSION!r} only",
            hint=f"Plan and apply with the same aimodels. {REPLAN_HINT}")
    _check_digest(path, document)
    problem = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "(top level)"
        raise PreconditionError(f"The plan file {path} is damaged at {where}: "
                                f"{problem.message}", hint=REPLAN_HINT)
    return document


def _load(path: Path) -> Any:
    try:
        text = path.read_bytes().decode("utf-8")
        return json.loads(text)
    except FileNotFoundError as exc:
        raise AimodelsError(f"No plan file at {path}",
                            hint="Save one with `aimodels plan --out FILE`.") from exc
    except (OSError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            "nested too deep" if isinstance(exc, RecursionError) else str(exc)
        raise AimodelsError(f"{path} is not a readable aimodels plan file: {reason}",
                            hint="Save one with `aimodels plan --out FILE`.") from exc


def _check_digest(path: Path, document: Mapping[str, Any]) -> None:
    recorded = document.get("digest")
    if recorded is None:
        raise PreconditionError(f"The plan file {path} has no digest, so it cannot be checked",
                                hint=REPLAN_HINT)
    try:
        actual: str | None = document_digest(document)
    except (ValueError, RecursionError):  # NaN, or nesting json.dumps cannot follow
        actual = None
    if recorded != actual:
        raise PreconditionError(
            f"The plan file {path} was changed after `aimodels plan` wrote it (its content "
            "does not match its digest), so it is not applied",
            hint=f"Never edit a saved plan: it is applied exactly. {REPLAN_HINT}")


def plan_from_document(document: Mapping[str, Any]) -> Plan:
    """The Plan a ``plan --out`` document holds (``Plan.to_dict`` read back; check the file
    with ``read_plan_file`` first). ``applyable`` and ``errored`` are derived again from the
    changes and diagnostics, not taken from the document."""
    try:
        changes = [_change(c) for c in document["changes"]]
        diagnostics = [_diagnostic(d) for d in document.get("diagnostics", ())]
        plan = Plan.build(changes, diagnostics,
                          desired_digest=str(document.get("desiredDigest", "")),
                          state_lineage=str(document.get("stateLineage", "")),
                          state_serial=int(document.get("stateSerial", 0)),
                          targets=tuple(ResourceAddress.parse(a)
                                        for a in document.get("targets", ())))
        return replace(plan, format_version=str(document.get("formatVersion", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PreconditionError(f"The plan file is damaged or from another version: {exc}",
                                hint=REPLAN_HINT) from exc


def _change(data: Mapping[str, Any]) -> Change:
    cost = data.get("cost")
    return Change(
        address=ResourceAddress.parse(data["address"]),
        action=Action(data["action"]),
        reasons=tuple(Reason(r) for r in data.get("reasons", ())),
        field_changes=tuple(FieldChange(f["path"], f.get("before"), f.get("after"),
                                        bool(f.get("forcesReplacement")),
                                        bool(f.get("sensitive")))
                            for f in data.get("fieldChanges", ())),
        before=data.get("before"), after=data.get("after"),
        precondition_etag=data.get("preconditionEtag"),
        resource_id=data.get("resourceId", ""), live_resource_id=data.get("liveResourceId"),
        replace_paths=tuple(data.get("replacePaths", ())),
        depends_on=tuple(ResourceAddress.parse(a) for a in data.get("dependsOn", ())),
        warnings=tuple(data.get("warnings", ())),
        cost=CostEstimate(cost["currency"], cost.get("hourlyBefore"), cost.get("hourlyAfter"))
        if cost else None,
        notes=tuple(data.get("notes", ())), retires=tuple(data.get("retires", ())))


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    source = SourceLocation(data["file"], data.get("line", 0), data.get("column", 0)) \
        if data.get("file") else None
    return Diagnostic(Severity(data["severity"]), data["summary"], data.get("detail", ""),
                      source, data.get("path", ""), data.get("address", ""))


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    """The validator of ``schemas/plan.schema.json`` as shipped in the package."""
    text = resources.files("aimodels").joinpath("schemas", "plan.schema.json").read_text(
        encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))
