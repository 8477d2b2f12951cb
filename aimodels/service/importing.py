"""``import``: adopt a resource that already exists in Azure into the state, Terraform's way.

    with ImportSession.open(request) as session:   # manifests, address and id checked, lock taken
        preview = session.preview()                # settle the journal, GET, the next plan
        ... the CLI shows preview.plan and asks ...
        session.record(preview)                    # one atomic state write

The address must be declared in the manifests, and the id the manifest gives it must be
RESOURCE_ID (compared case-insensitively, as ARM compares ids): import never writes a manifest
and never moves a resource. The state entry records what is *live* (the body through the
provider's ``from_live``), not what the manifest says, so the next plan shows exactly the
manifest-vs-live differences as updates. A write-only secret (a ModelSource's inline
credential) cannot be read back: no digest is recorded, so the next plan proposes sending it.
Nothing here prints; the preview is a value the CLI renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aimodels.apply.recovery import recover_pending
from aimodels.apply.state_store import StateStore
from aimodels.errors import Diagnostic, PreconditionError, RemoteError, UsageError
from aimodels.live.reader import checked_live
from aimodels.manifest import load_manifests
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.diff import get_path, mask
from aimodels.plan.planner import make_plan
from aimodels.plan.provider import Provider, ProviderContext
from aimodels.plan.values import SENSITIVE_VALUE, Change, LiveObject, LiveState, Plan
from aimodels.providers.custommodel import custom_model_ref
from aimodels.providers.registry import default_registry
from aimodels.service.connection import connect
from aimodels.service.inputs import resolve_inputs
from aimodels.service.locking import LockedSession, lock_state
from aimodels.service.planning import prior_resources, read_stack_state
from aimodels.service.reading import require_registry
from aimodels.service.runner import run
from aimodels.state.backend import StateBackend, StateLock, took_over
from aimodels.state.values import ResourceState, State
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError

#: Fields that exist only in aimodels, never in Azure (how a CustomModel is deleted): the
#: manifest's value is the truth, so import records it rather than the service default.
LOCAL_ONLY_FIELDS: Mapping[str, tuple[str, ...]] = {CUSTOM_MODEL: ("deletePolicy",)}

#: How each segment of a resource id is named to a person, and where the manifest sets it.
_SEGMENT_NAMES = {
    "subscriptions": "subscription (the Stack's subscriptionId)",
    "resourcegroups": "resource group (the Stack's resourceGroup)",
    "providers": "resource provider",
    "aimanagers": "AI manager (spec.aiManager, default the Stack's aiManager)",
    "namespaces": "namespace (spec.namespace)",
    "accounts": "Foundry account (spec.account, default the Stack's foundryAccount)",
}

#: The kind whose resources sit in a collection (the id's last type segment).
_KIND_OF_COLLECTION = {"modelsources": "ModelSource", "modeldeployments": "ModelDeployment",
                       "deployments": "FoundryDeployment", "custom-models": "CustomModel"}


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """What ``aimodels import`` was asked: the address, the Azure id, the manifests, Azure."""

    address: str
    resource_id: str
    paths: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What import will record, and what the next plan would do to the resource then.

    ``plan`` holds one change, the one ``aimodels plan`` would show for this address right
    after the import (a no-op when the manifest matches live). ``notes`` are lines for the
    person: journal entries settled, a secret that cannot be compared. Not a plan to apply.
    """

    entry: ResourceState
    plan: Plan
    notes: tuple[str, ...] = ()

    @property
    def change(self) -> Change:
        return self.plan.changes[0]


class ImportSession(LockedSession):
    """One import under the state lock; use ``open`` as a context manager."""

    def __init__(self, request: ImportRequest, desired: DesiredState, resource: DesiredResource,
                 warnings: tuple[Diagnostic, ...], backend: StateBackend,
                 lock: StateLock) -> None:
        super().__init__(backend, lock)
        self.request = request
        self.desired = desired
        self.resource = resource
        self.warnings = warnings
        self._state: State | None = None

    @classmethod
    def open(cls, request: ImportRequest) -> ImportSession:
        """Check the arguments against the manifests (no network), then take the state lock.

        Unset ``fromEnv`` variables are warnings: import records no secret.
        """
        address = parse_address(request.address)
        loaded = load_manifests(request.paths or (".",), env=request.env, strict_env=False)
        resource = declared(loaded.desired, address)
        check_same_resource(address, expected_id(loaded.desired, resource),
                            request.resource_id, resource)
        backend, lock = lock_state(loaded.desired.stack, request.env,
                                   f"aimodels import {address} {request.resource_id}")
        return cls(request, loaded.desired, resource,
                   (*loaded.warnings, *took_over(lock)), backend, lock)

    @property
    def address(self) -> ResourceAddress:
        return self.resource.address

    def preview(self) -> ImportPreview:
        """Settle an interrupted apply, refuse what the state already manages, read the
        resource, and work out its state entry and the next plan's change."""
        return run(self._preview())

    async def _preview(self) -> ImportPreview:
        resource_id = expected_id(self.desired, self.resource)
        async with connect(self.desired, self.request.endpoint) as client:
            notes = await self._recover(client)
            state = read_stack_state(self.desired, self.backend)[0]
            refuse_managed(state, self.address, resource_id)
            live = await read_resource(client, self.resource, resource_id)
        self._state = state
        entry = import_entry(self.desired, self.resource, live)
        plan = next_plan(self.desired, self.resource, live, entry, state, self.request.env)
        notes += secret_notes(self.desired, self.resource, entry)
        return ImportPreview(entry, plan, tuple(notes))

    async def _recover(self, client: AzureClient) -> list[str]:
        journal = self.backend.journal()
        if not journal.pending():
            return []
        store = StateStore(self.backend, read_stack_state(self.desired, self.backend)[0],
                           journal)
        return await recover_pending(store, client)

    def record(self, preview: ImportPreview) -> str:
        """Write the entry into the state (one atomic write); returns where the state is
        (``state file PATH`` or ``state blob URL``)."""
        state = self._state if self._state is not None else \
            read_stack_state(self.desired, self.backend)[0]
        refuse_managed(state, self.address, preview.entry.resource_id)
        self.backend.write(state.with_resource(preview.entry))
        return self.backend.where


def parse_address(text: str) -> ResourceAddress:
    """``Kind/name``; a malformed address is a usage error (exit 64)."""
    try:
        return ResourceAddress.parse(text)
    except ValueError as exc:
        raise UsageError(f"ADDR: {exc}") from exc


def declared(desired: DesiredState, address: ResourceAddress) -> DesiredResource:
    """The manifest entry of ``address``; import adopts only what the manifests declare."""
    found = desired.resources.get(address)
    if found is not None:
        return found
    same_kind = [r.name for r in desired.of_kind(address.kind)]
    known = f" The {address.kind}s declared are: {', '.join(same_kind)}." if same_kind else ""
    raise UsageError(
        f"{address} is not declared in the manifests, so there is nothing to import it "
        f"into.{known}",
        hint=f"Write its manifest first: `aimodels export --kind {address.kind}` prints one "
             "for every live resource of that kind; keep the one you want, then run import "
             "again.")


def expected_id(desired: DesiredState, resource: DesiredResource) -> str:
    """Where the manifest says the resource lives (the provider's id for its spec)."""
    provider = default_registry().for_address(resource.address)
    spec = provider.normalize(resource, ProviderContext(desired.stack))
    return provider.resource_id(resource.address, spec, desired.stack)


def check_same_resource(address: ResourceAddress, expected: str, given: str,
                        resource: DesiredResource) -> None:
    """Refuse (exit 64) a RESOURCE_ID that is not the resource the manifest describes,
    saying whether it is of another kind or at another place, and which segment differs."""
    if _canonical(expected) == _canonical(given):
        return
    want, got = _segments(expected), _segments(given)
    if _shape(want) != _shape(got):
        raise _wrong_kind(address, expected, given, got, resource)
    differences = [f"  {_segment_name(key, i == len(want) - 1)}: the manifest says {w!r}, "
                   f"RESOURCE_ID says {g!r}"
                   for i, ((key, w), (_, g)) in enumerate(zip(want, got, strict=True))
                   if w.lower() != g.lower()]
    raise UsageError(
        f"RESOURCE_ID is not where the manifest of {address} ({resource.source}) puts it:\n"
        + "\n".join(differences) + f"\n  the manifest's resource id: {expected}",
        hint="Import the resource the manifest describes, or edit the manifest so that it "
             "describes this one, then run import again.")


def _wrong_kind(address: ResourceAddress, expected: str, given: str,
                got: list[tuple[str, str]], resource: DesiredResource) -> UsageError:
    kind = _KIND_OF_COLLECTION.get(got[-1][0].lower()) if got else None
    hint = f"{address} lives at {expected} (its manifest is at {resource.source})."
    if kind and kind != address.kind:
        hint += (f" To adopt {given}, declare a {kind} named {got[-1][1]!r} and run "
                 f"`aimodels import {kind}/{got[-1][1]} {given}`.")
    return UsageError(f"RESOURCE_ID {given} is {_describe(got)}, not a {address.kind}",
                      hint=hint)


def _canonical(resource_id: str) -> str:
    return resource_id.strip().rstrip("/").lower()


def _segments(resource_id: str) -> list[tuple[str, str]]:
    """``/a/1/b/2`` → ``[("a", "1"), ("b", "2")]``; an odd tail pairs with an empty name."""
    parts = resource_id.strip().strip("/").split("/")
    if len(parts) % 2:
        parts.append("")
    return list(zip(parts[0::2], parts[1::2], strict=True))


def _shape(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The type of a resource id: its collection names and its resource provider."""
    return [(key.lower(), value.lower() if key.lower() == "providers" else "")
            for key, value in segments]


def _segment_name(key: str, last: bool) -> str:
    if last:
        return "name (metadata.name)"
    return _SEGMENT_NAMES.get(key.lower(), key)


def _describe(segments: list[tuple[str, str]]) -> str:
    keys = [key for key, _ in segments]
    if [k.lower() for k in keys] == ["custom-models"]:
        return "a custom model of the registry"
    lowered = [k.lower() for k in keys]
    if "providers" not in lowered:
        return "not an Azure resource id aimodels knows"
    at = lowered.index("providers")
    return f"a {segments[at][1]}/{'/'.join(keys[at + 1:])} resource"


def refuse_managed(state: State, address: ResourceAddress, resource_id: str) -> None:
    """Refuse (exit 6) an address, or a resource, that this state already manages."""
    held = state.get(str(address))
    if held is None:
        held = next((r for r in state.resources
                     if _canonical(r.resource_id) == _canonical(resource_id)), None)
    if held is None:
        return
    raise PreconditionError(
        f"{held.address} is already managed by this state ({held.resource_id})",
        hint=f"To import it again, forget it first: `aimodels state rm {held.address}` "
             "(Azure is not touched).")


async def read_resource(client: AzureClient, resource: DesiredResource,
                        resource_id: str) -> LiveObject:
    """GET the resource (a CustomModel: the manifest's version in the registry); a missing
    one is an error (exit 5), since there is nothing to adopt."""
    if resource.kind == CUSTOM_MODEL:
        body = await _registered_model(client, resource)
        found = LiveObject(resource.address, resource_id, body,
                           body.get("eTag") or body.get("etag"))
    else:
        try:
            response = await client.request("GET", resource_id)
        except NotFoundError:
            raise _missing(resource, resource_id) from None
        # The body's etag (eTag) where there is one, else the ETag header: real GETs carry
        # both, but not every body does (the spec's GetDeployment example has none).
        found = LiveObject(resource.address, resource_id, response.body, response.etag)
    return checked_live(found, default_registry(), f"GET {resource_id}")


async def _registered_model(client: AzureClient, resource: DesiredResource) -> Any:
    require_registry(client)
    path = custom_model_ref(resource.name)
    version = resource.spec.get("version")
    params = {"version": str(version)} if version else None
    body = await client.get_json_or_none(path, api="registry", params=params)
    if body is not None:
        return body
    newest = await client.get_json_or_none(path, api="registry") if version else None
    if newest is None:
        raise _missing(resource, path)
    raise RemoteError(
        f"{path} has no version {version!r} in the registry (the newest is "
        f"{newest.get('version')!r}), so there is nothing to import as {resource.address}",
        hint=f"Set spec.version in its manifest ({resource.source}) to the version to adopt; "
             "versions are strings (quote them).", code="NotFound", status=404)


def _missing(resource: DesiredResource, resource_id: str) -> RemoteError:
    return RemoteError(
        f"{resource_id} does not exist, so there is nothing to import as {resource.address}",
        hint="`aimodels apply` creates it from its manifest "
             f"({resource.source}); `aimodels export` lists what exists.",
        code="NotFound", status=404)


def import_entry(desired: DesiredState, resource: DesiredResource,
                 live: LiveObject) -> ResourceState:
    """The state entry of an adopted resource: the live spec (as ``from_live`` and the
    kind's diff read it, defaults filled, secrets masked) as the applied spec, the live ETag,
    the manifest's ``lifecycle``, and no secret digest."""
    provider = default_registry().for_address(resource.address)
    wanted = provider.normalize(resource, ProviderContext(desired.stack, desired=desired.resources))
    live_spec = _with_local_fields(provider.from_live(live.body), wanted, resource.kind)
    found = provider.diff(wanted, live_spec)  # puts a recognized catalog model in our words
    return ResourceState(address=str(resource.address), resource_id=live.resource_id,
                         desired=mask(found.live, provider.policy) or {}, etag=live.etag,
                         prevent_destroy=resource.lifecycle.prevent_destroy,
                         ignore_changes=resource.lifecycle.ignore_changes)


def _with_local_fields(live_spec: dict[str, Any], wanted: Mapping[str, Any],
                       kind: str) -> dict[str, Any]:
    for path in LOCAL_ONLY_FIELDS.get(kind, ()):
        if path in wanted and path not in live_spec:
            live_spec[path] = wanted[path]
    return live_spec


def next_plan(desired: DesiredState, resource: DesiredResource, live: LiveObject,
              entry: ResourceState, state: State, env: Mapping[str, str]) -> Plan:
    """The change ``plan`` would show for the address once ``entry`` is in the state (its
    diagnostics too: a replace of a preventDestroy resource is an error there)."""
    address = resource.address
    prior = prior_resources(state.with_resource(entry))
    # Hash only this resource's weights: the others are not part of the preview.
    inputs = resolve_inputs(DesiredState(desired.stack, {address: resource}), state, env)
    plan = make_plan(desired, LiveState({address: live}), prior, registry=default_registry(),
                     targets=(address,), inputs=inputs)
    change = plan.change_for(address)
    if change is None:  # make_plan plans every target it is given; this is a bug
        raise RuntimeError(f"no change planned for {address}")
    diagnostics = [d for d in plan.diagnostics if d.address == str(address)]
    return Plan.build([change], diagnostics)


def secret_notes(desired: DesiredState, resource: DesiredResource,
                 entry: ResourceState) -> list[str]:
    """A line per write-only secret both the manifest and the live resource hold: Azure
    never returns it, so it cannot be compared, and the next apply sends the manifest's."""
    provider: Provider = default_registry().for_address(resource.address)
    wanted = provider.normalize(resource, ProviderContext(desired.stack))
    return [f"{resource.address}: Azure never returns spec.{path}, so aimodels cannot tell "
            "whether the live one matches the manifest's; no digest is recorded, and the next "
            f"apply sends the manifest's (shown as {SENSITIVE_VALUE})."
            for path in provider.policy.secret
            if get_path(entry.desired, path) == SENSITIVE_VALUE == get_path(wanted, path)]
