"""Field-by-field comparison of a desired spec with a live one, under a kind's FieldPolicy.

This is the only module that calls deepdiff. Both sides arrive normalized to the manifest's
spec shape (``Provider.normalize`` / ``Provider.from_live``); here we fill the service's
defaults, keep the live value where the manifest lets the service decide (``ignoreChanges``,
computed-if-unset fields), compare secrets by digest only, and mark immutable fields as forcing
a replacement. Paths in a policy are relative to ``spec`` (``scale.replicas``); paths in the
result are rooted at the document (``spec.scale.replicas``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aimodels.model.jsonvalue import copied
from aimodels.plan.values import SENSITIVE_VALUE, FieldChange, Reason

_MISSING = object()


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    """How one kind's fields are compared. Spec paths are dotted and relative to ``spec``.

    ``server_computed``: body paths (``properties.provisioningState``, ``eTag``) the service
    sets; dropped from live bodies before they are normalized, never compared.
    ``immutable``: spec paths whose change needs a replacement (per api-version, see the kind
    modules). ``secret``: spec paths holding secrets, masked everywhere and compared by digest.
    ``defaults``: values the service fills when the manifest leaves a field out, so an omitted
    field and the filled one compare equal. ``computed_if_unset``: fields the service chooses
    when left out (a model's default version): compared only when the manifest sets them.
    ``from_state``: fields the service never returns; the live side takes them from the spec
    last applied (the state). Not for deciding actions: the planner does that.
    """

    server_computed: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    computed_if_unset: tuple[str, ...] = ()
    from_state: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecretDigests:
    """Keyed digests of secrets by spec path: ``desired`` from this run, ``prior`` from state.

    The digests come from ``aimodels.state.values.secret_digest`` (the state's key); here they
    are only compared for equality.
    """

    desired: Mapping[str, str] = field(default_factory=dict)
    prior: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResourceDiff:
    """The comparison of one resource: what apply would send, what is live, and what differs.

    ``planned`` is the desired spec with defaults filled and ignored or service-chosen fields
    taken from live (what apply sends; PUT is a full replace). ``live`` is the live spec with
    defaults filled. Both still hold unmasked non-secret values; use ``mask`` before showing.
    ``reasons`` name the cause of a replacement (immutable field, changed content); the planner
    chooses the action from them and from ``field_changes``.
    """

    planned: Mapping[str, Any]
    live: Mapping[str, Any]
    field_changes: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[str, ...] = ()


def diff_specs(desired: Mapping[str, Any], live: Mapping[str, Any], policy: FieldPolicy, *,
               ignore: Iterable[str] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
    """Compare a normalized desired spec with a normalized live spec under ``policy``."""
    live_full = with_defaults(live, policy.defaults)
    ignored = tuple(ignore)
    planned = _keep_live(with_defaults(desired, policy.defaults), live_full, policy, ignored)
    secret_changes, warnings = _secret_changes(planned, live_full, policy, secrets, ignored)
    changes = sorted([*_plain_changes(planned, live_full, policy), *secret_changes],
                     key=lambda c: c.path)
    replace_paths = tuple(sorted({c.path for c in changes if c.forces_replacement}))
    reasons = (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,) if replace_paths else ()
    return ResourceDiff(planned, live_full, tuple(changes), replace_paths, reasons, warnings)


def _keep_live(planned: dict[str, Any], live: Mapping[str, Any], policy: FieldPolicy,
               ignore: Iterable[str]) -> dict[str, Any]:
    """The desired spec with the live value kept where the manifest leaves the choice to Azure,
    changed in place (``planned`` is a fresh copy of the desired spec, ours to change).

    ``ignoreChanges`` paths keep the live value whatever the manifest says (absent live, absent
    planned); ``computed_if_unset`` paths keep it only when the manifest leaves them out of a
    block it does use.
    """
    unset = [p for p in policy.computed_if_unset
             if get_path(planned, p) is _MISSING and _has_parent(planned, p)]
    kept = [*ignore, *unset]
    for path in kept:
        value = get_path(live, path)
        if value is _MISSING:
            delete_path(planned, path)
        else:
            set_path(planned, path, copied(value))
    return planned


def with_defaults(spec: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with each default set where the field is absent.

    A nested default (``scale.autoscale.minReplicas``) is filled only when its parent is there,
    so a default never brings in a block the manifest chose not to use.
    """
    filled: dict[str, Any] = copied(dict(spec))
    for path, value in sorted(defaults.items()):
        if get_path(filled, path) is _MISSING and _has_parent(filled, path):
            set_path(filled, path, copied(value))
    return filled


def remembered(live: Mapping[str, Any], applied: Mapping[str, Any],
               paths: Iterable[str]) -> dict[str, Any]:
    """``live`` with the fields the service never returns taken from the spec last applied."""
    filled: dict[str, Any] = copied(dict(live))
    for path in paths:
        value = get_path(applied, path)
        if get_path(filled, path) is _MISSING and value is not _MISSING:
            set_path(filled, path, copied(value))
    return filled


def mask(spec: Mapping[str, Any] | None, policy: FieldPolicy, *,
         owned: bool = False) -> dict[str, Any] | None:
    """A copy of ``spec`` fit to show or store: every secret path holds ``SENSITIVE_VALUE``.

    ``owned``: ``spec`` is a fresh dict nobody else holds (the planner's own), masked in place
    rather than copied."""
    if spec is None:
        return None
    masked: dict[str, Any] = spec if owned and type(spec) is dict else copied(dict(spec))
    for path in policy.secret:
        if get_path(masked, path) is not _MISSING:
            set_path(masked, path, SENSITIVE_VALUE)
    return masked


def _has_parent(spec: Mapping[str, Any], path: str) -> bool:
    parent = path.rpartition(".")[0]
    return not parent or isinstance(get_path(spec, parent), Mapping)


def covers(paths: Iterable[str], path: str) -> bool:
    """Whether ``path`` lies under, or contains, one of ``paths`` (segment-wise)."""
    return any(_overlaps(p, path) for p in paths)


def _overlaps(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    return longer == shorter or longer.startswith((shorter + ".", shorter + "["))


def _plain_changes(planned: Mapping[str, Any], live: Mapping[str, Any],
                   policy: FieldPolicy) -> list[FieldChange]:
    """Field changes outside secret paths, from deepdiff's tree view."""
    if _identical(live, planned, frozenset(policy.secret)):
        # Most resources of a plan are unchanged; deepdiff costs ~0.5 ms each to say so
        # (and ~15 ms to import, which a plan without changes then never pays).
        return []
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    excluded = [_deepdiff_path(p) for p in policy.secret]
    found = DeepDiff(dict(live), dict(planned), view="tree", threshold_to_diff_deeper=0,
                     exclude_paths=excluded)
    changes = []
    for levels in found.values():
        for level in levels:
            path = dotted(level.path(output_format="list"))
            changes.append(FieldChange(
                path=f"spec.{path}", before=_value(level.t1, NotPresent),
                after=_value(level.t2, NotPresent),
                forces_replacement=covers(policy.immutable, path)))
    return changes


def _identical(a: Any, b: Any, skip: frozenset[str], path: str = "") -> bool:
    """Equal, and of the same types all the way down, outside the ``skip`` paths: the cases
    where deepdiff (which reports ``1`` vs ``1.0`` as a type change) would find nothing."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        if not skip:  # most kinds have no secret: no paths to build
            return a.keys() == b.keys() and all(_identical(a[k], b[k], skip) for k in a)
        keys = {k for k in (*a, *b) if f"{path}{k}" not in skip}
        return all(k in a and k in b and _identical(a[k], b[k], skip, f"{path}{k}.")
                   for k in keys)
    if isinstance(a, list | tuple):
        # Policy paths never reach into lists: no path under an item can be skipped.
        return len(a) == len(b) and all(_identical(x, y, skip, f"{path}[].")
                                        for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _secret_changes(planned: Mapping[str, Any], live: Mapping[str, Any], policy: FieldPolicy,
                    secrets: SecretDigests | None, ignored: tuple[str, ...],
                    ) -> tuple[list[FieldChange], tuple[str, ...]]:
    """Secret fields: compared as shapes, and by digest when both sides hold a secret."""
    digests = secrets or SecretDigests()
    changes, warnings = [], []
    for path in sorted(p for p in policy.secret if not covers(ignored, p)):
        want, have = get_path(planned, path), get_path(live, path)
        if want == have == SENSITIVE_VALUE:
            if path not in digests.desired:
                warnings.append(f"spec.{path}: the secret was not resolved, so it was not compared")
                continue
            if digests.desired[path] == digests.prior.get(path):
                continue
        elif want == have:
            continue
        changes.append(FieldChange(f"spec.{path}", _masked(have), _masked(want),
                                   forces_replacement=covers(policy.immutable, path),
                                   sensitive=True))
    return changes, tuple(warnings)


def _masked(value: Any) -> Any:
    return None if value is _MISSING else SENSITIVE_VALUE


def _value(value: Any, absent: type) -> Any:
    return None if isinstance(value, absent) else value


def dotted(parts: Iterable[Any]) -> str:
    """``['scale', 'replicas']`` → ``scale.replicas``; list indexes as ``[0]``; odd keys quoted."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and "." not in part and "[" not in part:
            text += f".{part}" if text else part
        else:
            text += f'["{part}"]'
    return text


def _deepdiff_path(path: str) -> str:
    return "root" + "".join(f"[{part!r}]" for part in path.split("."))


def get_path(spec: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted spec path, or the private ``_MISSING`` marker."""
    node: Any = spec
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def is_missing(value: Any) -> bool:
    """Whether ``get_path`` found nothing."""
    return value is _MISSING


def set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted spec path, creating the dicts on the way."""
    *parents, last = path.split(".")
    node = spec
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def delete_path(spec: dict[str, Any], path: str) -> None:
    """Remove a dotted spec path if present, and the parents it leaves empty."""
    *parents, last = path.split(".")
    nodes = [spec]
    for part in parents:
        child = nodes[-1].get(part)
        if not isinstance(child, dict):
            return
        nodes.append(child)
    nodes[-1].pop(last, None)
    for node, part in zip(reversed(nodes[:-1]), reversed(parents), strict=True):
        if node.get(part) == {}:
            del node[part]
