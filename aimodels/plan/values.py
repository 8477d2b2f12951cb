"""The values planning consumes and produces: inputs (prior, live, resolved) and the Plan itself.

Everything here is an inert, frozen value with no I/O. The planner (``planner.make_plan``) is the
only code that chooses an ``Action``; renderers, the plan file and apply only read these values.
``Plan.to_dict()`` is the JSON document of ``plan --format json`` (``formatVersion`` below): keys
are camelCase, dict keys are sorted and every list has a stable order, so equal inputs give
byte-identical JSON.

Secrets never enter these values: a sensitive field is carried as ``SENSITIVE_VALUE`` on both
sides, and ``FieldChange`` refuses to be built otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aimodels.errors import Diagnostic, has_errors
from aimodels.model.address import ResourceAddress

#: Version of the plan JSON document; a minor bump adds fields, a major bump breaks readers.
FORMAT_VERSION = "1.0"

#: What a secret field holds wherever a value would be shown (plan, plan file, state).
SENSITIVE_VALUE = "(sensitive value)"

#: How a changed secret is described to a person; the value itself is never known to the plan.
SENSITIVE_CHANGED = "(sensitive value changed)"


class Action(enum.Enum):
    """What apply will do to one resource. The value is the JSON spelling (Terraform's)."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        """The marker printed before the address in human output (`+`, `~`, `-/+`, `-`)."""
        return _SYMBOLS[self]

    @property
    def verb(self) -> str:
        """The phrase printed after the address (``will be created``...)."""
        return _VERBS[self]


_SYMBOLS = {Action.NOOP: " ", Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+",
            Action.DELETE: "-"}
_VERBS = {Action.NOOP: "is up to date", Action.CREATE: "will be created",
          Action.UPDATE: "will be updated in place", Action.REPLACE: "must be replaced",
          Action.DELETE: "will be destroyed"}


class Reason(enum.Enum):
    """Why the planner chose an action, to explain the plan to a person.

    Reasons are for people and for ``--format json`` readers; apply must not branch on them
    (Terraform's rule for ``ActionReason``): apply acts on ``Change.action`` alone.
    """

    CREATE_BECAUSE_NOT_IN_LIVE = "create_because_not_in_live"
    RECREATE_BECAUSE_DELETED_OUTSIDE = "recreate_because_deleted_outside"
    UPDATE_BECAUSE_FIELDS_CHANGED = "update_because_fields_changed"
    UPDATE_BECAUSE_CHANGED_OUTSIDE = "update_because_changed_outside"
    UPDATE_BECAUSE_PROVISIONING_FAILED = "update_because_provisioning_failed"
    UPDATE_BECAUSE_MODEL_REPLACED = "update_because_model_replaced"
    UPDATE_BECAUSE_VERSIONS_UNUSED = "update_because_versions_unused"
    REPLACE_BECAUSE_IMMUTABLE_FIELD = "replace_because_immutable_field"
    REPLACE_BECAUSE_CONTENT_CHANGED = "replace_because_content_changed"
    REPLACE_BECAUSE_MODEL_REPLACED = "replace_because_model_replaced"
    REPLACE_BECAUSE_REQUESTED = "replace_because_requested"
    DELETE_BECAUSE_NOT_IN_MANIFEST = "delete_because_not_in_manifest"
    DELETE_BECAUSE_DESTROY_REQUESTED = "delete_because_destroy_requested"
    FORGET_BECAUSE_DELETED_OUTSIDE = "forget_because_deleted_outside"
    RECORD_BECAUSE_LIFECYCLE_CHANGED = "record_because_lifecycle_changed"

    @property
    def sentence(self) -> str:
        """The reason as a sentence to print under the change."""
        return _SENTENCES[self]


_SENTENCES = {
    Reason.CREATE_BECAUSE_NOT_IN_LIVE: "It is in the manifests and does not exist in Azure yet.",
    Reason.RECREATE_BECAUSE_DELETED_OUTSIDE:
        "It was deleted outside aimodels since the last apply; it will be created again.",
    Reason.UPDATE_BECAUSE_FIELDS_CHANGED:
        "The manifests changed fields that can be updated in place.",
    Reason.UPDATE_BECAUSE_CHANGED_OUTSIDE:
        "Fields were changed outside aimodels since the last apply; they will be set back.",
    Reason.UPDATE_BECAUSE_PROVISIONING_FAILED:
        "Its provisioning failed in Azure (provisioningState Failed); it will be sent again.",
    Reason.UPDATE_BECAUSE_MODEL_REPLACED:
        "Its custom model gets new weights under the same version; it is deployed again once "
        "they are registered.",
    Reason.UPDATE_BECAUSE_VERSIONS_UNUSED:
        "Versions aimodels registered earlier are no longer used by any deployment; they will "
        "be deleted.",
    Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD:
        "A field that cannot change in place changed (marked # forces replacement).",
    Reason.REPLACE_BECAUSE_CONTENT_CHANGED:
        "The weights changed under the same version: upload again and register again.",
    Reason.REPLACE_BECAUSE_MODEL_REPLACED:
        "Its custom model gets new weights under the same version, and the service keeps a "
        "deployment on the weights it pulled: it is deleted and created again once they are "
        "registered.",
    Reason.REPLACE_BECAUSE_REQUESTED: "Replacement was requested with --replace.",
    Reason.DELETE_BECAUSE_NOT_IN_MANIFEST:
        "It is in the state but no longer in the manifests.",
    Reason.DELETE_BECAUSE_DESTROY_REQUESTED:
        "Destroy was requested (aimodels destroy), for it or for what it depends on.",
    Reason.FORGET_BECAUSE_DELETED_OUTSIDE:
        "It is gone from Azure and from the manifests; apply only drops it from the state.",
    Reason.RECORD_BECAUSE_LIFECYCLE_CHANGED:
        "Its lifecycle settings changed: apply records them in the state, with no call to "
        "Azure for them.",
}

#: Where the ``lifecycle`` block's field changes are rooted (as users write it, inside spec).
LIFECYCLE_PATH = "spec.lifecycle."


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs between live (``before``) and desired (``after``).

    ``path`` is dotted from the document root (``spec.scale.replicas``, ``spec.tags.team``,
    list items as ``spec.x[0]``). ``None`` means the field is absent on that side. A
    ``sensitive`` change carries ``SENSITIVE_VALUE`` (or ``None``) on both sides, never a value:
    print it as ``SENSITIVE_CHANGED``. ``forces_replacement`` marks an immutable field.
    """

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False
    sensitive: bool = False

    def __post_init__(self) -> None:
        if self.sensitive and not {self.before, self.after} <= {None, SENSITIVE_VALUE}:
            raise ValueError(f"sensitive field {self.path} must not carry a value")

    def to_dict(self) -> dict[str, Any]:
        """The field change as JSON values."""
        return {"after": _jsonable(self.after), "before": _jsonable(self.before),
                "forcesReplacement": self.forces_replacement, "path": self.path,
                "sensitive": self.sensitive}


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """The compute price of a resource before and after the change, per hour, from calculateCost.

    ``hourly_before`` is None when nothing runs today (a create), ``hourly_after`` None when
    nothing will run (a delete). Filled by pre-flight, never by the planner (it does no I/O).
    """

    currency: str = "USD"
    hourly_before: float | None = None
    hourly_after: float | None = None

    @property
    def hourly_delta(self) -> float:
        """How much more (or less, negative) the resource costs per hour after the change."""
        return (self.hourly_after or 0.0) - (self.hourly_before or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "hourlyAfter": self.hourly_after,
                "hourlyBefore": self.hourly_before, "hourlyDelta": round(self.hourly_delta, 6)}


@dataclass(frozen=True, slots=True)
class Change:
    """What the plan will do to one resource, and why.

    ``before`` is the live spec normalized to the manifest's shape (``None`` when nothing is
    live), ``after`` the planned spec (``None`` for a delete); both have secrets masked.
    ``field_changes`` lists the differing fields of an UPDATE or REPLACE (creates and deletes
    show ``before``/``after`` whole). ``precondition_etag`` is the live ETag the change is
    conditioned on (``If-Match`` on update/delete; ``None`` on create, which sends
    ``If-None-Match: *``). ``resource_id`` is where the planned resource lives; ``live_resource_id``
    is the id of the live object acted on, which differs only when a parent (aiManager,
    namespace, account) changed and the REPLACE moves the resource. ``replace_paths`` are the
    fields that force a replacement. ``depends_on`` are the addresses this one needs first.
    ``cost`` is the hourly price before and after, where pre-flight could price the resource.
    ``notes`` are informational lines from the planner and pre-flight (``upload 13.5 GB
    (sha256 3f2a…)``, ``weights unchanged (sha256 3f2a…)``, what happens to a custom model's
    old versions and deployments, how an autoscaled cost was priced): never warnings.
    ``retires`` are versions of a CustomModel that aimodels registered earlier and this change
    deletes: after every change that depends on it ran (a ``retire`` step), or, for a DELETE,
    with the version it deletes.
    A NOOP with neither ``before`` nor ``after`` is a forget (``is_forget``): the resource is
    gone from Azure and from the manifests, and apply only drops its state entry. A NOOP with
    field changes is a record (``is_record``): only ``spec.lifecycle.*`` changed, which Azure
    never sees, and apply only writes it into the state entry. An UPDATE or REPLACE may carry
    ``spec.lifecycle.*`` changes too; its state entry takes the new lifecycle as it is written.
    """

    address: ResourceAddress
    action: Action
    reasons: tuple[Reason, ...] = ()
    field_changes: tuple[FieldChange, ...] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    precondition_etag: str | None = None
    resource_id: str = ""
    live_resource_id: str | None = None
    replace_paths: tuple[str, ...] = ()
    depends_on: tuple[ResourceAddress, ...] = ()
    warnings: tuple[str, ...] = ()
    cost: CostEstimate | None = None
    notes: tuple[str, ...] = ()
    retires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.action is not Action.NOOP and not self.reasons:
            raise ValueError(f"{self.address}: a {self.action.value} needs a reason")
        if self.replace_paths and self.action is not Action.REPLACE:
            raise ValueError(f"{self.address}: replace paths on a {self.action.value}")
        if self.action is Action.NOOP and any(not f.path.startswith(LIFECYCLE_PATH)
                                              for f in self.field_changes):
            raise ValueError(f"{self.address}: a no-op may change spec.lifecycle only")

    @property
    def is_forget(self) -> bool:
        """A no-op in Azure whose only effect is dropping the state entry (already deleted).

        Told by shape, not by reason: nothing is live and nothing is planned.
        """
        return self.action is Action.NOOP and self.before is None and self.after is None

    @property
    def is_record(self) -> bool:
        """A no-op in Azure whose only effect is writing a changed ``lifecycle`` (preventDestroy,
        ignoreChanges) into the state entry. Told by shape: a no-op with field changes."""
        return self.action is Action.NOOP and bool(self.field_changes)

    @property
    def is_state_only(self) -> bool:
        """A forget or a record: apply changes the state and sends nothing to Azure."""
        return self.is_forget or self.is_record

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON values, keys sorted. ``notes`` and ``retires`` appear only when
        there are some (added in format 1.x; readers must not require them)."""
        out = {
            "action": self.action.value,
            "address": str(self.address),
            "after": _jsonable(self.after),
            "before": _jsonable(self.before),
            "cost": self.cost.to_dict() if self.cost else None,
            "dependsOn": [str(a) for a in self.depends_on],
            "fieldChanges": [f.to_dict() for f in self.field_changes],
            "liveResourceId": self.live_resource_id,
            "preconditionEtag": self.precondition_etag,
            "reasons": [r.value for r in self.reasons],
            "replacePaths": list(self.replace_paths),
            "resourceId": self.resource_id,
            "warnings": list(self.warnings),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.retires:
            out["retires"] = list(self.retires)
        return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """How many changes of each action a plan holds.

    ``forget`` counts resources only dropped from the state (gone from Azure and from the
    manifests); ``record`` those whose changed lifecycle is only written into the state;
    ``unchanged`` counts the other no-ops.
    """

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    forget: int = 0
    unchanged: int = 0
    record: int = 0

    @property
    def has_changes(self) -> bool:
        """Whether apply has anything to do (``--detailed-exitcode`` exits 2 then)."""
        return bool(self.create or self.update or self.replace or self.delete or self.forget
                    or self.record)

    def to_dict(self) -> dict[str, int]:
        """The counts; ``record`` appears only when there are some (added in format 1.x)."""
        out = {"create": self.create, "delete": self.delete, "forget": self.forget,
               "replace": self.replace, "unchanged": self.unchanged, "update": self.update}
        if self.record:
            out["record"] = self.record
        return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class Plan:
    """The inert result of planning: every change, and whether it may be applied.

    ``changes`` is sorted by address (apply order comes from ``graph.apply_graph``).
    ``diagnostics`` holds planning and pre-flight findings; pre-flight and cost code add theirs
    with ``with_diagnostics``. ``errored`` is true when any diagnostic is an error; such a plan
    can be shown but never applied. ``applyable`` is true when nothing errored and something
    would change (an empty plan has nothing to apply). ``desired_digest``, ``state_lineage``
    and ``state_serial`` record what the plan was made against, so a saved plan can be refused
    as stale; the live ETags are on each change.
    """

    changes: tuple[Change, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    applyable: bool = False
    errored: bool = False
    desired_digest: str = ""
    state_lineage: str = ""
    state_serial: int = 0
    targets: tuple[ResourceAddress, ...] = ()
    format_version: str = FORMAT_VERSION

    @classmethod
    def build(cls, changes: Iterable[Change], diagnostics: Iterable[Diagnostic] = (),
              **recorded: Any) -> Plan:
        """A plan with changes sorted by address and the status flags derived, not passed."""
        ordered = tuple(sorted(changes, key=lambda c: c.address))
        diags = tuple(sorted(diagnostics, key=lambda d: (d.address, d.sort_key())))
        errored = has_errors(diags)
        applyable = not errored and any(c.action is not Action.NOOP or c.is_state_only
                                        for c in ordered)
        return cls(ordered, diags, applyable, errored, **recorded)

    def with_diagnostics(self, extra: Iterable[Diagnostic]) -> Plan:
        """This plan with more diagnostics (pre-flight, cost) and the flags derived again."""
        recorded = {"desired_digest": self.desired_digest, "state_lineage": self.state_lineage,
                    "state_serial": self.state_serial, "targets": self.targets}
        plan = Plan.build(self.changes, (*self.diagnostics, *extra), **recorded)
        return replace(plan, format_version=self.format_version)

    def change_for(self, address: ResourceAddress) -> Change | None:
        """The change planned for one address, if the plan covers it."""
        return next((c for c in self.changes if c.address == address), None)

    def summary(self) -> PlanSummary:
        """Counts per action."""
        counts = {a: sum(c.action is a for c in self.changes) for a in Action}
        forget = sum(c.is_forget for c in self.changes)
        record = sum(c.is_record for c in self.changes)
        return PlanSummary(create=counts[Action.CREATE], update=counts[Action.UPDATE],
                           replace=counts[Action.REPLACE], delete=counts[Action.DELETE],
                           forget=forget, unchanged=counts[Action.NOOP] - forget - record,
                           record=record)

    def to_dict(self) -> dict[str, Any]:
        """The plan as the versioned JSON document of ``plan --format json``."""
        return {
            "applyable": self.applyable,
            "changes": [c.to_dict() for c in self.changes],
            "desiredDigest": self.desired_digest,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "errored": self.errored,
            "formatVersion": self.format_version,
            "stateLineage": self.state_lineage,
            "stateSerial": self.state_serial,
            "summary": self.summary().to_dict(),
            "targets": [str(a) for a in self.targets],
        }


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriorResource:
    """What the state remembers of one managed resource, as the planner needs it.

    The CLI fills these from ``aimodels.state`` (``ResourceState``); the planner does not import
    state. ``applied_spec`` is the ``after`` of the change that last applied the resource
    (normalized, secrets masked): it tells drift from edits, gives the dependencies of resources
    whose manifest entry is gone, and remembers fields the service never returns.
    ``secret_digests`` maps a spec path (``credential``) to the keyed digest of the secret last
    sent. ``prevent_destroy`` is kept here so deleting the manifest entry does not drop the guard;
    ``ignore_changes`` with it, so a lifecycle edit is seen (and planned) like any other.
    ``registered_versions`` (CustomModel only, state ``extra.registeredVersions``) are the
    versions aimodels registered and has not deleted, besides the applied one.
    """

    address: ResourceAddress
    resource_id: str
    applied_spec: Mapping[str, Any] = field(default_factory=dict)
    etag: str | None = None
    prevent_destroy: bool = False
    secret_digests: Mapping[str, str] = field(default_factory=dict)
    ignore_changes: tuple[str, ...] = ()
    registered_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LiveObject:
    """One resource as Azure (or the registry) returned it: the raw body and its ETag.

    Produced by the live reader (``aimodels.live``). ``body`` is untouched JSON; providers
    normalize it (``Provider.from_live``). ``etag`` is ``None`` where the API has none.
    """

    address: ResourceAddress
    resource_id: str
    body: Mapping[str, Any]
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class LiveState:
    """Every live object found for the addresses of the manifests and the state.

    An address missing here means the reader looked and Azure answered 404 (or the parent
    collection did not list it).
    """

    objects: Mapping[ResourceAddress, LiveObject] = field(default_factory=dict)

    def get(self, address: ResourceAddress) -> LiveObject | None:
        return self.objects.get(address)


@dataclass(frozen=True, slots=True)
class Weights:
    """A CustomModel's weights as hashed on this machine: sha256 over the content, size in bytes."""

    sha256: str
    size: int
    format: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedInputs:
    """What the CLI works out locally before planning, since the planner reads no file or env.

    ``weights`` are the hashed CustomModel contents; ``secret_digests`` the keyed digests of the
    secrets each resource references (``{address: {"credential.secret": digest}}``, keyed by
    spec path), never the values.
    """

    weights: Mapping[ResourceAddress, Weights] = field(default_factory=dict)
    secret_digests: Mapping[ResourceAddress, Mapping[str, str]] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    """A JSON-ready copy with dict keys sorted, so output order never depends on input order."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
