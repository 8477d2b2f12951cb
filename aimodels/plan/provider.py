"""What the planner asks of a kind: the Provider protocol, the context it maps in, and the
registry of providers by kind.

The planner, the drift report, the live reader and the executor are handed a
``ProviderRegistry`` by their caller (``aimodels.providers.registry.default_registry`` builds the
one of this build's kinds); ``plan/`` itself never names a concrete kind module.

A provider is pure: it builds the request body from a planned spec (``to_body``), turns a live
body back into the manifest's spec shape (``from_live``) so the two compare field by field, and
diffs them under its ``FieldPolicy`` (through ``aimodels.plan.diff``). It never chooses an
action: the planner does. Reads and writes of Azure are the live reader's and the executor's,
through ``aimodels.transport``; a provider only says where and how, as values they ask for:
the collection its resources are listed in (``collection``), the writer family that sends its
writes (``writer``), and how a live body reads as an exported manifest (``export``). So a new
kind is one provider module, and the I/O layers never name a kind.

Normalized specs keep the manifest's words (``model: {catalog: ...}``, ``scale: {replicas: 2}``,
``modelSource: hf-private``), with the Stack's defaults filled (``aiManager``, ``account``) and
secrets replaced by ``SENSITIVE_VALUE``. They are what the state stores as the applied spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol

from aimodels.errors import AimodelsError
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, Stack
from aimodels.model.shapes import json_type_words, spec_shape_problem
from aimodels.plan.diff import FieldPolicy, ResourceDiff, SecretDigests
from aimodels.plan.values import PriorResource, ResolvedInputs

#: Where a deployment's comparable spec keeps the digest of the weights it was deployed with:
#: the service never returns it, so the live side takes it from the state.
DEPLOYED_DIGEST = "model.sha256"


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What a provider needs beyond one resource's spec.

    ``desired`` lets a body name other resources (a CustomModel's version); ``inputs`` holds
    hashed weights and secret digests. ``secret_values`` is filled by apply only, to send a
    secret in a request body; it is never printed (``repr=False``) and never reaches a plan.
    """

    stack: Stack
    inputs: ResolvedInputs = field(default_factory=ResolvedInputs)
    desired: Mapping[ResourceAddress, DesiredResource] = field(default_factory=dict)
    secret_values: Mapping[ResourceAddress, Mapping[str, str]] = field(
        default_factory=dict, repr=False)


class WriterFamily(StrEnum):
    """Which of apply's writers (``aimodels.apply.operations``) sends a kind's writes."""

    #: ARM PUT and DELETE with the preconditions the API honours (If-Match, If-None-Match).
    ARM = "arm"
    #: ARM without If-Match (Cognitive Services): GET-compare the ETag, one write per account.
    COGNITIVE = "cognitive"
    #: The custom-model registry: upload the weights, register, delete by version.
    REGISTRY = "registry"


@dataclass(frozen=True, slots=True, order=True)
class ListCollection:
    """Where the live reader finds a resource: the URL of the collection it is listed in, and
    the API that URL belongs to (``arm``, or ``registry`` for the custom-model registry)."""

    url: str
    api: Literal["arm", "registry"] = "arm"


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What shaping a live body into a manifest needs beyond the body: the Stack (whose
    defaults an exported spec leaves out) and the AI manager catalog's names by lower-cased
    AIModel name (``catalog_names``: a hashed model id is shown as ``microsoft/Phi-4``)."""

    stack: Stack
    catalog: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExportedSpec:
    """A live body in a manifest's words: the spec (no secret; may still hold empty values,
    which the exporter leaves out) and notes for the person, keyed by the top-level spec key
    they explain."""

    spec: dict[str, Any]
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class SpecShapeError(ValueError):
    """A spec holds a value of a type its field never has (``model.custom`` a list where a name
    belongs). Only a state's applied spec can: the planner reports it as a damaged state.
    ``what`` names the type found (``"a list"``), never the value: it may be anything."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path} is {what}, which that field never holds")
        self.path = path


def spec_name(spec: Mapping[str, Any], *path: str) -> str | None:
    """The name at ``path`` in ``spec`` (``spec_name(spec, "model", "custom")``), or None when
    it is not there; ``SpecShapeError`` when a step on the way is not an object or the name
    is not a non-empty string. The found value is never quoted: it may be anything."""
    value: object = spec
    for depth, key in enumerate(path):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise SpecShapeError(".".join(path[:depth]), json_type_words(value))
        value = value.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SpecShapeError(".".join(path), json_type_words(value) if value != "" else
                             "an empty string")
    return value


class Provider(Protocol):
    """One kind's mapping and field rules (pure: no clock, no network), and where its
    resources are listed and how they are written, for the I/O layers to act on."""

    # Constants of the kind, set on the provider class (as ProviderBase declares them).
    kind: ClassVar[str]
    api_version: ClassVar[str]
    policy: ClassVar[FieldPolicy]

    @property
    def writer(self) -> WriterFamily:
        """Which writer sends this kind's writes (a class attribute in the kind modules)."""
        ...

    def resource_id(self, address: ResourceAddress, spec: Mapping[str, Any],
                    stack: Stack) -> str:
        """Where the resource lives: an ARM id, or the registry path for CustomModel."""
        ...

    def normalize(self, desired: DesiredResource, ctx: ProviderContext) -> dict[str, Any]:
        """The desired spec in comparable shape: Stack defaults filled, secrets masked."""
        ...

    def references(self, spec: Mapping[str, Any]) -> tuple[ResourceAddress, ...]:
        """The addresses a normalized spec names (its possible dependencies); ``SpecShapeError``
        when a name's place holds something else (only a state's applied spec can: manifests
        are checked before they are normalized)."""
        ...

    def to_body(self, address: ResourceAddress, spec: Mapping[str, Any],
                ctx: ProviderContext) -> dict[str, Any]:
        """The request body (ARM PUT or registry POST) for a planned spec."""
        ...

    def from_live(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A live body normalized back to the manifest's spec shape."""
        ...

    def diff(self, desired_spec: Mapping[str, Any], live_spec: Mapping[str, Any], *,
             ignore: tuple[str, ...] = (), secrets: SecretDigests | None = None) -> ResourceDiff:
        """Compare a normalized desired spec with a normalized live one (pure)."""
        ...

    def recognize(self, known_spec: Mapping[str, Any],
                  live_spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """``live_spec`` in the words of ``known_spec`` (the manifest's, or the spec last
        applied) where Azure holds an opaque equivalent: a catalog model's hashed AIModel id
        shown as ``microsoft/Phi-4-mini-instruct``. For display and comparison only."""
        ...

    def collection(self, address: ResourceAddress, resource_id: str) -> ListCollection:
        """The collection the live reader lists to find the resource at ``resource_id``."""
        ...

    def listed_id(self, body: Mapping[str, Any]) -> str:
        """Where a listed live body lives: its ARM id, or its registry path."""
        ...

    def export(self, body: Mapping[str, Any], ctx: ExportContext) -> ExportedSpec:
        """A live body as the spec of a manifest to write (``aimodels export``): in the
        manifest's words, the Stack's defaults left out, no secret."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderRegistry:
    """Providers by kind. Tests and future kinds build their own with ``of``."""

    by_kind: Mapping[str, Provider]

    @classmethod
    def of(cls, providers: Iterable[Provider]) -> ProviderRegistry:
        return cls({p.kind: p for p in providers})

    def for_kind(self, kind: str) -> Provider:
        """The provider of a kind; an unknown kind is a bug (manifests are validated first)."""
        return self.by_kind[kind]

    def for_address(self, address: ResourceAddress) -> Provider:
        return self.for_kind(address.kind)


def check_applied_specs(prior: Mapping[ResourceAddress, PriorResource],
                        registry: ProviderRegistry) -> None:
    """Refuse a state whose applied specs hold what aimodels never wrote there (a hand edit):
    a field of a type its kind's schema does not allow (``model/shapes.py``), or a reference
    that is not a name. The plan and drift would otherwise fail inside a provider, with a
    traceback instead of a message."""
    for address, entry in prior.items():
        try:
            if shape := spec_shape_problem(address.kind, entry.applied_spec):
                raise SpecShapeError(*shape)
            registry.for_address(address).references(entry.applied_spec)
        except SpecShapeError as exc:
            raise AimodelsError(
                f"The state's entry for {address} is not what aimodels wrote: in the spec it "
                f"last applied, {exc}. It may have been edited by hand.",
                hint=f"Restore the state from version control or a backup, or forget the "
                     f"entry with `aimodels state rm {address}` and adopt the resource again "
                     f"with `aimodels import`.") from None
