"""The writes apply sends, per API family: what create, update and delete mean for each
family of kinds. A kind's provider names its family (``Provider.writer``, a ``WriterFamily``);
the executor keeps one writer per family.

- ``ArmWriter`` (``WriterFamily.ARM``: ModelSource, ModelDeployment on
  Microsoft.ContainerService): PUT and DELETE with preconditions the API honours:
  ``If-None-Match: *`` on create, ``If-Match: <plan ETag>`` on update and delete, so a resource
  changed since the plan answers 412 and is not touched. A 409 while another operation runs
  on the resource (``Updating``, from a write made outside aimodels) is waited out, then the
  write is sent again with the same If-Match.
- ``CognitiveWriter`` (``WriterFamily.COGNITIVE``: FoundryDeployment): the API declares no
  If-Match, so we GET just before writing and compare the ETag with the plan's. This is
  weaker: a write landing between our GET and our PUT goes unnoticed. Azure allows one write
  at a time per account, so the executor serializes writes per account (``exclusive_key``)
  and we retry its 409 ``RequestConflict`` (another client's operation) with backoff.
- ``RegistryWriter`` (``WriterFamily.REGISTRY``: CustomModel): put the weights in the data
  store (``apply.upload``: copied when identical content is registered, resumed after an
  interruption, sent once), then register (a REPLACE registers with ``overwrite``: the
  registry swaps the version for the new upload in one call); delete by version
  (``keep_weights`` with ``deletePolicy: KeepWeights``), and ``retire`` the old versions the
  plan lists once their deployments moved.

Long-running operations are followed with ``transport.lro``; a failed one raises RemoteError
carrying the provisioning error code and message, and one still running at the LRO deadline
raises ``OperationTimedOut`` (the change is left in flight, not failed).
"""

from __future__ import annotations

import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aimodels.apply.transfer import Transfer
from aimodels.errors import AimodelsError, ConflictError, RemoteError
from aimodels.model.desired import DesiredResource
from aimodels.plan.provider import Provider, ProviderContext
from aimodels.plan.values import Action, Change
from aimodels.state.backend import RecordFolder
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError
from aimodels.transport.lro import LroHandle, OperationTimedOut, complete_lro, running_state
from aimodels.transport.response import Response
from aimodels.weights.formats import format_from_name
from aimodels.weights.source import local_root, source_of

if TYPE_CHECKING:
    from aimodels.apply.upload import UploadJob
    from aimodels.apply.upload_blocks import UploadSettings

#: Retried with backoff instead of failing: Cognitive Services' "Another operation is being
#: performed on the parent resource".
RETRIED_CONFLICTS = frozenset({"RequestConflict"})

T = TypeVar("T")

STALE_HINT = "Run `aimodels plan` to see the live resource, then apply the new plan."


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a write left in Azure: the final body (None after a delete) and its ETag."""

    body: Mapping[str, Any] | None = None
    etag: str | None = None

    @classmethod
    def of(cls, body: Any) -> Outcome:
        if not isinstance(body, Mapping):
            return cls()
        etag = body.get("eTag") or body.get("etag")
        return cls(body, str(etag) if etag else None)


@dataclass(eq=False)
class OperationFailed(RemoteError):
    """Azure accepted the write but its long-running operation failed (or could not be
    followed): the resource exists, in whatever state the failure left it. ``outcome`` is what
    the accepted write answered, so apply can still record the resource as managed."""

    outcome: Outcome = field(default_factory=lambda: Outcome())


@dataclass(frozen=True, slots=True)
class ConflictRetry:
    """How long to keep retrying a retried 409: full-jitter backoff from ``base_delay`` up to
    ``max_delay`` per wait, giving up after ``budget`` seconds of waiting."""

    base_delay: float = 1.0
    max_delay: float = 20.0
    budget: float = 1800.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(self.base_delay / 2, min(self.max_delay,
                                                     self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class StepRequest:
    """One write to send: the change, which half of it (``operation``), and how to build it.

    ``report`` shows a progress note for the step (never a secret), ``waiting`` says why the
    step is held back; ``on_handle`` receives the LRO handle once an operation runs in Azure;
    ``progress`` receives an upload's ``Transfer`` (bytes, speed, ETA) as it moves.
    """

    change: Change
    operation: str
    provider: Provider
    ctx: ProviderContext
    report: Callable[[str], None]
    waiting: Callable[[str], None]
    on_handle: Callable[[LroHandle], None]
    progress: Callable[[Transfer], None] = field(default=lambda transfer: None)

    @property
    def desired(self) -> DesiredResource | None:
        return self.ctx.desired.get(self.change.address)

    @property
    def live_url(self) -> str:
        """The resource acted on by an update or delete (differs from ``resource_id`` only
        when a REPLACE moves the resource to another parent)."""
        return self.change.live_resource_id or self.change.resource_id

    def body(self) -> dict[str, Any]:
        return self.provider.to_body(self.change.address, self.change.after or {}, self.ctx)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a step's resource can be read back (for recovery after a crash)."""

    url: str
    api: str = "arm"
    params: Mapping[str, str] | None = None


class Writer(Protocol):
    """Sends one kind's writes. ``exclusive_key`` names what must not see two writes at once
    (None: no such limit); ``locate`` says where the step's resource is read back. A kind
    whose changes can retire old versions (CustomModel) also has ``retire``."""

    def exclusive_key(self, request: StepRequest) -> str | None: ...

    def locate(self, request: StepRequest) -> Location: ...

    async def create(self, request: StepRequest) -> Outcome: ...

    async def update(self, request: StepRequest) -> Outcome: ...

    async def delete(self, request: StepRequest) -> Outcome: ...


class ArmWriter:
    """Writes of an ARM API that honours If-Match / If-None-Match (Microsoft.ContainerService).

    A write refused with 409 while an operation runs on the resource (one started outside
    aimodels: ``Updating``...) is sent again once it has ended, waiting as for the account-level
    409 of Cognitive Services; the If-Match of the plan goes with it, so a resource that
    operation changed answers 412 and is not overwritten."""

    def __init__(self, client: AzureClient, retry: ConflictRetry,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self._busy = _BusyWait(client, retry, rng or random.Random())

    def exclusive_key(self, request: StepRequest) -> str | None:
        return None

    def locate(self, request: StepRequest) -> Location:
        return _arm_location(request)

    async def create(self, request: StepRequest) -> Outcome:
        return await self._put(request, request.change.resource_id, {"If-None-Match": "*"})

    async def update(self, request: StepRequest) -> Outcome:
        return await self._put(request, request.live_url, _if_match(request.change))

    async def delete(self, request: StepRequest) -> Outcome:
        url = request.live_url

        async def send() -> Any:
            return await self.client.request("DELETE", url, headers=_if_match(request.change))

        try:
            first = await self._busy.sending(request, send, self._operation_on(url))
        except ConflictError as exc:
            if exc.status == 412 and await _gone(self.client, url):
                return Outcome()  # deleted since the plan: what we wanted
            raise
        await complete_lro(self.client, first, on_handle=request.on_handle)
        return Outcome()

    async def _put(self, request: StepRequest, url: str, headers: dict[str, str]) -> Outcome:
        async def send() -> Any:
            return await self.client.request("PUT", url, json=request.body(), headers=headers)

        first = await self._busy.sending(request, send, self._operation_on(url))
        return await _finish_put(self.client, request, first)

    def _operation_on(self, url: str) -> Callable[[ConflictError], Awaitable[str | None]]:
        """What a 409 on ``url`` waits for: an operation running on the resource, as its
        provisioningState says (a 409 on an idle resource is a real conflict: raised)."""
        async def running(exc: ConflictError) -> str | None:
            if exc.status != 409:
                return None
            try:
                state = running_state(await self.client.get_json_or_none(url))
            except RemoteError:
                return None  # cannot tell: the 409 stands
            return None if state is None else \
                f"another operation is running on it (provisioningState {state})"

        return running


class CognitiveWriter:
    """Writes of Microsoft.CognitiveServices deployments: no If-Match, one write per account."""

    def __init__(self, client: AzureClient, retry: ConflictRetry,
                 rng: random.Random | None = None) -> None:
        self.client = client
        self._busy = _BusyWait(client, retry, rng or random.Random())

    def exclusive_key(self, request: StepRequest) -> str | None:
        """The account: its id, lower-cased (ARM ids compare case-insensitively)."""
        return _arm_location(request).url.rsplit("/deployments/", 1)[0].lower()

    def locate(self, request: StepRequest) -> Location:
        return _arm_location(request)

    async def create(self, request: StepRequest) -> Outcome:
        return await self._put(request, request.change.resource_id, None)

    async def update(self, request: StepRequest) -> Outcome:
        return await self._put(request, request.live_url, request.change.precondition_etag)

    async def delete(self, request: StepRequest) -> Outcome:
        url = request.live_url
        expected = request.change.precondition_etag

        async def send() -> Any:
            found = await _etag_now(self.client, url)
            if found is None:
                return None  # deleted since the plan: what we wanted
            _refuse_if_changed(found, expected, exists=True)
            return await self.client.request("DELETE", url)

        first = await self._busy.sending(request, send, _account_busy)
        if first is not None:
            await complete_lro(self.client, first, on_handle=request.on_handle)
        return Outcome()

    async def _put(self, request: StepRequest, url: str, expected: str | None) -> Outcome:
        creating = request.operation == "create"

        async def send() -> Any:
            found = await _etag_now(self.client, url)
            _refuse_if_changed(found, expected, exists=not creating)
            return await self.client.request("PUT", url, json=request.body())

        first = await self._busy.sending(request, send, _account_busy)
        return await _finish_put(self.client, request, first)


async def _account_busy(exc: ConflictError) -> str | None:
    """What a Cognitive Services 409 waits for: another write on the account."""
    return "another operation runs on the account" if exc.code in RETRIED_CONFLICTS else None


class _BusyWait:
    """Sending a write again while Azure refuses it because another operation runs (on the
    resource, or on its Cognitive Services account): full-jitter backoff per
    ``ConflictRetry``, a WAITING note before each wait, up to ``retry.budget`` seconds."""

    def __init__(self, client: AzureClient, retry: ConflictRetry, rng: random.Random) -> None:
        self.client, self.retry, self.rng = client, retry, rng

    async def sending(self, request: StepRequest, send: Callable[[], Awaitable[T]],
                      busy: Callable[[ConflictError], Awaitable[str | None]]) -> T:
        """``send()``, and again while ``busy`` names what the ConflictError it raised waits
        for (None: a conflict to raise). Each attempt is a whole new ``send``, so the ETag
        check runs again after the wait: the other operation may have changed the resource."""
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            try:
                return await send()
            except ConflictError as exc:
                if waited >= self.retry.budget:
                    raise
                why = await busy(exc)
                if why is None:
                    raise
                delay = self.retry.delay(attempt, self.rng)
                request.waiting(f"{why}; retrying in {delay:.1f} s")
                await self.client.sleep(delay)
                waited += delay


class RegistryWriter:
    """CustomModel in the registry: upload then register; delete one version.

    ``settings`` tune uploads (block size, concurrency); by default they come from
    ``AIMODELS_UPLOAD_BLOCK_SIZE`` / ``AIMODELS_UPLOAD_CONCURRENCY``. ``records`` is where
    resumable-upload records go (the state backend's; None: the Stack's ``.aimodels``).
    """

    def __init__(self, client: AzureClient, settings: UploadSettings | None = None,
                 records: RecordFolder | None = None) -> None:
        # The upload machinery imports azure-storage-blob and requests (~0.1-0.3 s): only
        # when a CustomModel is written, never for plan or drift (they import this module).
        from aimodels.apply.upload_blocks import UploadSettings

        self.client = client
        self.settings = settings or UploadSettings.from_env(os.environ)
        self.records = records

    def exclusive_key(self, request: StepRequest) -> str | None:
        """Uploads of one content run one at a time, so the second finds the first
        registered and lets the data store copy it instead of sending it again."""
        if request.operation in ("delete", "retire"):
            return None
        digest = ((request.change.after or {}).get("weights") or {}).get("sha256")
        return f"weights:{digest}" if digest else None

    def locate(self, request: StepRequest) -> Location:
        side = request.change.before if request.operation == "delete" else request.change.after
        version = (side or {}).get("version")
        return Location(f"/custom-models/{request.change.address.name}", "registry",
                        {"version": str(version)} if version is not None else None)

    async def create(self, request: StepRequest) -> Outcome:
        """Put the weights in the data store (copied, resumed or sent: ``apply.upload``),
        then register them; the resumable-upload record goes once they are registered."""
        from aimodels.apply.upload import UploadNotes, upload_weights

        job = _upload_job(request, self.records)
        notes = UploadNotes(request.report, request.progress)
        uploaded = await upload_weights(self.client, job, self.settings, notes)
        request.report("registering")
        outcome = await self._register(request, uploaded.upload_id)
        job.upload_records.remove(job.model)
        return outcome

    async def update(self, request: StepRequest) -> Outcome:
        """A new version uploads and registers alongside the old one (the plan's ``retire``
        step deletes the old one once no deployment uses it); changed tags or description
        re-register the same upload; ``deletePolicy`` or ``previousVersions`` alone are ours
        only and need no call."""
        before, after = request.change.before or {}, request.change.after or {}
        if str(before.get("version")) != str(after.get("version")) or \
                before.get("weights") != after.get("weights"):
            return await self.create(request)
        sent = ("format", "description", "tags")
        if all(before.get(k) == after.get(k) for k in sent):
            return Outcome(await self._show(request, after.get("version")))
        live = await self._show(request, before.get("version")) or {}
        await self._delete_version(request, before.get("version"), keep_weights=True)
        return await self._register(request, str(live.get("upload_id", "")))

    async def delete(self, request: StepRequest) -> Outcome:
        """The version last applied, then the older ones aimodels registered (``retires``)."""
        await self._delete_version(request, (request.change.before or {}).get("version"),
                                   keep_weights=_keeps_weights(request.change))
        return await self.retire(request)

    async def retire(self, request: StepRequest) -> Outcome:
        """Delete the old versions the plan retires (their deployments have moved off them),
        honouring ``deletePolicy`` for their blobs."""
        for version in request.change.retires:
            request.report(f"deleting version {version}")
            await self._delete_version(request, version,
                                       keep_weights=_keeps_weights(request.change))
        return Outcome()

    async def _register(self, request: StepRequest, upload_id: str) -> Outcome:
        """Register the upload. A register is safe to send again after a 5xx or a lost
        answer: the registry refuses a second one of the same version (409), so one that
        had landed is found by reading the version back (it carries our upload id)."""
        body = {**request.body(), "upload_id": upload_id}
        if request.change.action is Action.REPLACE:
            # New weights under the same version: swapped in one call, never missing; the old
            # upload's blobs go unless deletePolicy keeps them. Resending it is harmless: the
            # registry keeps a version that already names this upload as it is.
            body.update(overwrite=True, keep_weights=_keeps_weights(request.change))
        try:
            response = await self.client.request("POST", "/custom-models", api="registry",
                                                 json=body, idempotent=True)
        except ConflictError as exc:
            landed = await self._show(request, body.get("version")) if exc.status == 409 \
                else None
            if landed is None or landed.get("upload_id") != upload_id:
                raise
            return Outcome(landed)
        return Outcome(response.body if isinstance(response.body, Mapping) else None)

    async def _show(self, request: StepRequest, version: Any) -> Mapping[str, Any] | None:
        params = {"version": str(version)} if version is not None else None
        return await self.client.get_json_or_none(
            f"/custom-models/{request.change.address.name}", api="registry", params=params)

    async def _delete_version(self, request: StepRequest, version: Any, *,
                              keep_weights: bool) -> None:
        params = {"version": str(version)} if version is not None else {}
        if keep_weights:
            params["keep_weights"] = "true"
        try:
            await self.client.request("DELETE", f"/custom-models/{request.change.address.name}",
                                      api="registry", params=params or None)
        except NotFoundError:
            return  # already gone: what we wanted


def _keeps_weights(change: Change) -> bool:
    """``deletePolicy: KeepWeights``: a version leaves the registry, its blobs stay."""
    spec = change.after or change.before or {}
    return spec.get("deletePolicy") == "KeepWeights"


def _arm_location(request: StepRequest) -> Location:
    """A create acts where the plan puts the resource; an update or delete on the live one."""
    create = request.operation == "create"
    return Location(request.change.resource_id if create else request.live_url)


def _upload_job(request: StepRequest, records: RecordFolder | None = None) -> UploadJob:
    """What to upload for a CustomModel create: the local path (absolute) or URL, the
    format, the planned digest, the Stack's data folder, and where the resumable record
    goes."""
    from aimodels.apply.upload import UploadJob

    desired, spec = request.desired, request.change.after or {}
    raw = source_of(desired) if desired else ""
    if desired is None or not raw:
        raise AimodelsError(f"{request.change.address}: spec.path is not set",
                            hint="Point spec.path at the weights file, folder or https URL.")
    root = local_root(desired)
    fmt = spec.get("format") or (format_from_name(raw) if root is None else None)
    if not fmt:
        raise AimodelsError(f"{request.change.address}: the weights format is unknown",
                            hint="Set spec.format (safetensors, gguf, onnx or pytorch).")
    source = str(root) if root is not None else raw
    digest = (spec.get("weights") or {}).get("sha256")
    return UploadJob(request.change.address.name, source, str(fmt),
                     str(digest) if digest else None, request.ctx.stack.data_dir,
                     request.ctx.stack.weights_folders, records)


async def _finish_put(client: AzureClient, request: StepRequest, first: Response) -> Outcome:
    """Follow the operation an accepted PUT started; its failure is an ``OperationFailed``.
    One still running at the LRO deadline is not a failure: ``OperationTimedOut`` goes up
    as it is (the executor leaves its journaled handle for the next run)."""
    try:
        final = await complete_lro(client, first, on_handle=request.on_handle)
    except OperationTimedOut:
        raise
    except RemoteError as exc:
        raise OperationFailed(exc.message, exc.hint, code=exc.code, status=exc.status,
                              outcome=Outcome.of(first.body)) from exc
    return Outcome.of(final if final is not None else first.body)


def _if_match(change: Change) -> dict[str, str]:
    return {"If-Match": change.precondition_etag} if change.precondition_etag else {}


async def _gone(client: AzureClient, url: str) -> bool:
    return await client.get_json_or_none(url) is None


async def _etag_now(client: AzureClient, url: str) -> str | None:
    """The live ETag, ``""`` for a resource without one, None when it does not exist."""
    body = await client.get_json_or_none(url)
    if body is None:
        return None
    return Outcome.of(body).etag or ""


def _refuse_if_changed(found: str | None, expected: str | None, *, exists: bool) -> None:
    """Refuse the write when the resource is not as the plan saw it: the GET-compare that
    stands in for If-Match / If-None-Match where the API has none. ``found`` is the ETag a GET
    returned just now (None: the resource does not exist)."""
    if not exists and found is not None:
        raise _stale("it exists now, and the plan would create it")
    if exists and found is None:
        raise _stale("it no longer exists")
    if exists and expected and found != expected:
        raise _stale(f"its ETag is {found}, the plan saw {expected}")


def _stale(why: str) -> ConflictError:
    return ConflictError(f"the resource changed since the plan: run plan again ({why})",
                         hint=STALE_HINT, code="PreconditionFailed", status=412)
