"""CustomModel weights: get them into the registry's data store, at most once.

``upload_weights`` picks the cheapest way that ends with the content in a fresh upload folder:

1. **Already registered** (the planned sha256 and size match a registered model): the service
   copies those blobs (``blob.copy.copy_registered``); nothing is sent.
2. **A URL source**: the service copies from the URL (``blob.copy.copy_from_url``).
3. **Local weights**: a resumable block upload (``upload_blocks``). The folder, upload id and
   block size are kept in a record under ``.aimodels/uploads/`` (``upload_record``) written
   before the first block, so an apply killed at any moment (Ctrl-C, kill -9, a network
   failure, a SAS that expired) is resumed by the next one: blocks the service holds are not
   sent again. The content is hashed in the same read pass that sends it, and nothing is
   committed unless it hashes to the digest the plan was made with.

Each run asks ``POST /datastore/upload/initialize`` for a SAS (lifetime from the size,
docs/uploads.md); a resumed upload writes to its recorded folder with the new SAS (a container SAS
covers every folder), and a SAS refused mid-upload is replaced the same way. Errors become
``RemoteError``/``AuthError`` naming the blob path, never the SAS.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aimodels.apply.transfer import Transfer
from aimodels.apply.upload_blocks import (
    BlockUploader,
    StageReport,
    UploadSettings,
    UploadStopped,
    describe_check,
)
from aimodels.apply.upload_record import UploadRecord, UploadRecords
from aimodels.blob.copy import CopiedBlob, copy_from_url, copy_registered, total_size
from aimodels.blob.errors import UPLOAD, storage_errors
from aimodels.errors import AimodelsError, AuthError, RemoteError
from aimodels.state.backend import RecordFolder
from aimodels.transport.client import AzureClient
from aimodels.transport.endpoints import rewrite_url
from aimodels.transport.redact import register_sas
from aimodels.weights.cache import FileHash, HashCache
from aimodels.weights.formats import detect_format
from aimodels.weights.source import WeightsFile, folder_digest, weights_files
from aimodels.weights.units import human_duration, human_size

__all__ = ["Upload", "UploadJob", "UploadNotes", "folder_digest", "sas_lifetime",
           "upload_weights", "weights_files"]

T = TypeVar("T")

#: Seed 000's SAS lifetime: 1.5 x size / speed, at least 30 minutes, at most 24 hours.
SAS_MIN_SECONDS = 30 * 60
SAS_MAX_SECONDS = 24 * 3600
SAS_ASSUMED_BYTES_PER_SECOND = 20 * 1024 * 1024
#: From this size on, apply says how long the upload should take before it starts.
LARGE_UPLOAD = 1_000_000_000
#: Without a measured speed, the estimate spans these (bytes per second).
ASSUMED_SPEEDS = (40_000_000, 150_000_000)
#: A SAS refresh from a worker thread gives up after this long.
REFRESH_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class UploadJob:
    """One CustomModel's weights to put in the data store. ``source`` is an absolute local
    path or a URL; ``sha256`` the planned digest (None for a URL); ``data_dir`` the Stack's
    ``.aimodels`` folder (digest cache, measured speed); ``roots`` the folders local files may be
    read from (``Stack.weights_folders``; empty: ``source`` itself only); ``records`` where the
    resumable-upload record goes (the state backend's, beside the state; None: ``data_dir``)."""

    model: str
    source: str
    format: str
    sha256: str | None
    data_dir: Path
    roots: tuple[Path, ...] = ()
    records: RecordFolder | None = None

    @property
    def upload_records(self) -> UploadRecords:
        """The resumable-upload records of this job's Stack."""
        return UploadRecords(self.data_dir, self.records)

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("https://", "http://"))


@dataclass(frozen=True, slots=True)
class UploadNotes:
    """Where an upload reports: ``say`` for one-line notes, ``progress`` for transfers."""

    say: Callable[[str], None]
    progress: Callable[[Transfer], None]


@dataclass(frozen=True, slots=True)
class Upload:
    """The content in the data store: the registry's ``upload_id`` to register, the digest
    (None for a URL source), the size, and how it got there (``sent``, ``resumed``,
    ``copied``); ``staged`` counts blocks and bytes for a block upload."""

    upload_id: str
    sha256: str | None
    size: int
    how: str
    staged: StageReport | None = None


def sas_lifetime(size: int) -> int:
    """Seconds to ask for an upload SAS covering ``size`` bytes (docs/uploads.md)."""
    estimate = 1.5 * size / SAS_ASSUMED_BYTES_PER_SECOND
    return int(min(max(estimate, SAS_MIN_SECONDS), SAS_MAX_SECONDS))


async def upload_weights(client: AzureClient, job: UploadJob, settings: UploadSettings,
                         notes: UploadNotes) -> Upload:
    """Put ``job``'s weights in a fresh upload folder (copied, resumed or sent)."""
    if job.is_url:
        return await _from_url(client, job, notes)
    files = weights_files(Path(job.source), job.roots or None)
    total = sum(f.size for f in files)
    twin = await _registered_twin(client, job.sha256, total) if job.sha256 else None
    if twin is not None:
        return await _from_registered(client, job, files, total, twin, notes)
    return await _send_blocks(client, job, files, total, settings, notes)


# --- local weights: the resumable block upload ---------------------------------------------


async def _send_blocks(client: AzureClient, job: UploadJob, files: list[WeightsFile],
                       total: int, settings: UploadSettings, notes: UploadNotes) -> Upload:
    single = Path(job.source).is_file()
    body = _initialize_body(job, total, files[0].relative if single else None)
    grant = await _initialize(client, body)
    records = job.upload_records
    record = _resumable(records, job, files, total)
    if record is None:
        record = _new_record(job, files, total, grant, settings)
        records.save(record)
    else:
        notes.say(f"resuming upload {record.upload_id} (blocks already in the data store are "
                  "not sent again)")
    sas = RegistrySas(client, asyncio.get_running_loop(), body, grant)
    stop = threading.Event()
    uploader = BlockUploader(sas, settings, record.block_size, record.blob_prefix,
                             _threadsafe(notes.progress), stop)
    _announce(job, total, notes)
    notes.say(describe_check(settings.block_check))
    started_ns = time.time_ns()
    say = _threadsafe(notes.say)
    staged, digest = await _in_thread(
        lambda: _stage_and_commit(uploader, files, single, job, say), stop)
    _after_upload(job, files, staged, started_ns)
    how = "resumed" if staged.bytes_skipped else "sent"
    return Upload(record.upload_id, digest, total, how, staged)


def _stage_and_commit(uploader: BlockUploader, files: list[WeightsFile], single: bool,
                      job: UploadJob, say: Callable[[str], None]) -> tuple[StageReport, str]:
    """Stage every block, check the digest against the plan, commit (in a worker thread)."""
    try:
        staged = uploader.stage(files)
        entries = [(f.relative, f.size, f.sha256) for f in staged.files]
        digest = entries[0][2] if single else folder_digest(entries)
        if job.sha256 and digest != job.sha256:
            job.upload_records.remove(job.model)
            raise AimodelsError(
                f"the weights changed since the plan (sha256 {digest[:12]}…, the plan has "
                f"{job.sha256[:12]}…); nothing was registered",
                hint="Run `aimodels plan` again so the plan covers the new content.")
        say(f"sha256 {digest[:12]}… as planned; committing the blocks")
        uploader.commit({f.relative: f.sha256 for f in staged.files})
        return staged, digest
    finally:
        uploader.close()


def _resumable(records: UploadRecords, job: UploadJob, files: list[WeightsFile],
               total: int) -> UploadRecord | None:
    """The record of an interrupted upload of exactly this content, if there is one."""
    record = records.load(job.model)
    listing = [(f.relative, f.size) for f in files]
    if record is None or not record.describes(job.source, job.sha256, total, listing):
        return None
    return record


def _new_record(job: UploadJob, files: list[WeightsFile], total: int, grant: Mapping[str, Any],
                settings: UploadSettings) -> UploadRecord:
    return UploadRecord(
        model=job.model, source=job.source, sha256=job.sha256, size=total,
        files=tuple((f.relative, f.size) for f in files), upload_id=str(grant["upload_id"]),
        container=str(grant.get("container", "")), blob_prefix=str(grant["blob_prefix"]),
        block_size=settings.block_size_for(max(f.size for f in files)),
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _after_upload(job: UploadJob, files: list[WeightsFile], staged: StageReport,
                  started_ns: int) -> None:
    """Remember what the upload learned: each file's digest (the reader checked that the
    file did not move while it was read, so the next plan need not read it) and the speed
    (for the next estimate)."""
    cache = HashCache.for_stack(job.data_dir)
    for file, done in zip(files, staged.files, strict=True):
        with contextlib.suppress(OSError):
            st = file.path.stat()
            if st.st_size == done.size:
                known = cache.lookup(file.path, st)
                fmt = known.format if known is not None else detect_format(file.path)
                cache.store(file.path, st, FileHash(done.sha256, done.size, fmt), started_ns)
    cache.save()
    if staged.bytes_sent >= 64 * 1024 * 1024 and staged.seconds > 0:
        job.upload_records.save_speed(staged.bytes_sent / staged.seconds)


def _announce(job: UploadJob, total: int, notes: UploadNotes) -> None:
    """Before a large upload: how long it should take (docs/uploads.md, Progress)."""
    if total < LARGE_UPLOAD:
        return
    measured = job.upload_records.load_speed()
    if measured:
        when = f"about {human_duration(total / measured)} at the {human_size(measured)}/s " \
               "measured last time"
    else:
        slow, fast = ASSUMED_SPEEDS
        when = f"about {human_duration(total / fast)} to {human_duration(total / slow)} " \
               f"(at {human_size(fast)}/s to {human_size(slow)}/s)"
    notes.say(f"{human_size(total)} of weights: {when}; keep this command running, the model "
              "is registered once the upload ends (an interrupted upload resumes on the next "
              "apply)")


# --- copies the service makes ----------------------------------------------------------------


async def _registered_twin(client: AzureClient, sha256: str,
                           size: int) -> Mapping[str, Any] | None:
    """A registered model holding exactly this content (same sha256 and size), if any."""
    try:
        models = await client.list_all("/custom-models", api="registry")
    except (RemoteError, AuthError):
        return None  # dedup is an optimization: upload instead
    return next((m for m in models if isinstance(m, Mapping) and m.get("sha256") == sha256
                 and m.get("size_bytes") == size and m.get("blob_prefix")), None)


async def _from_registered(client: AzureClient, job: UploadJob, files: list[WeightsFile],
                           total: int, twin: Mapping[str, Any], notes: UploadNotes) -> Upload:
    single = Path(job.source).is_file()
    body = _initialize_body(job, total, files[0].relative if single else None)
    grant = await _initialize(client, body)
    notes.say(f"identical weights are registered as {twin.get('name')}:{twin.get('version')}; "
              "the data store copies them, nothing is uploaded")
    container = rewrite_url(client.config, str(grant["container_sas_uri"]))
    names = (lambda _: files[0].relative) if single else (lambda relative: relative)
    copied: list[CopiedBlob] = await _in_thread(
        lambda: copy_registered(container, str(twin["blob_prefix"]), str(grant["blob_prefix"]),
                                names), threading.Event())
    if total_size(copied) != total:
        raise AimodelsError(f"the copy of {twin.get('name')}'s weights holds "
                            f"{total_size(copied)} bytes, not {total}",
                            hint="Run apply again; the registered twin is then not used.")
    notes.progress(Transfer(total, resumed=total, copied=True))
    return Upload(str(grant["upload_id"]), job.sha256, total, "copied")


async def _from_url(client: AzureClient, job: UploadJob, notes: UploadNotes) -> Upload:
    name = job.source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "weights"
    body = _initialize_body(job, 0, name)
    grant = await _initialize(client, body)
    records = job.upload_records
    record = records.load(job.model)
    if record is None or not record.describes(job.source, None, 0, [(name, 0)]):
        record = UploadRecord(job.model, job.source, None, 0, ((name, 0),),
                              str(grant["upload_id"]), str(grant.get("container", "")),
                              str(grant["blob_prefix"]), 0)
        records.save(record)
    notes.say(f"the data store copies {_without_query(job.source)} itself (nothing is "
              "downloaded here)")
    container = rewrite_url(client.config, str(grant["container_sas_uri"]))
    copied: CopiedBlob = await _in_thread(
        lambda: copy_from_url(container, record.blob_prefix + name, job.source),
        threading.Event())
    notes.progress(Transfer(copied.size, resumed=copied.size, copied=True))
    return Upload(record.upload_id, None, copied.size, "copied")


# --- the registry's SAS ------------------------------------------------------------------------


def _initialize_body(job: UploadJob, total: int, file_name: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"model_name": job.model, "file_size": total, "format": job.format,
                            "sas_lifetime_seconds": sas_lifetime(total)}
    if file_name:
        body["file_name"] = file_name
    return body


async def _initialize(client: AzureClient, body: Mapping[str, Any]) -> Mapping[str, Any]:
    # Safe to send twice: a repeated initialize only hands out another grant for a folder
    # nothing is written to (uploads are found by their blobs), so a 5xx is retried too.
    grant = await client.request_json("POST", "/datastore/upload/initialize", api="registry",
                                      json=dict(body), idempotent=True)
    for key in ("sas_uri", "container_sas_uri"):
        register_sas(str(grant.get(key) or ""))
    missing = [k for k in ("upload_id", "container_sas_uri", "blob_prefix") if not grant.get(k)]
    if missing:
        raise RemoteError(f"The registry's upload grant lacks {', '.join(missing)}",
                          code="InvalidUploadGrant")
    return grant


class RegistrySas:
    """The SasSource of one upload: the container SAS of the last ``initialize``; a refresh
    (from a worker thread) calls ``initialize`` again on the event loop."""

    def __init__(self, client: AzureClient, loop: asyncio.AbstractEventLoop,
                 body: Mapping[str, Any], grant: Mapping[str, Any]) -> None:
        self.client, self.loop, self.body = client, loop, body
        self.generation = 0
        self.url = rewrite_url(client.config, str(grant["container_sas_uri"]))
        self.refreshed = 0
        self._lock = threading.Lock()

    def current(self) -> tuple[int, str]:
        with self._lock:
            return self.generation, self.url

    def refresh(self, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            future = asyncio.run_coroutine_threadsafe(_initialize(self.client, self.body),
                                                      self.loop)
            grant = future.result(timeout=REFRESH_TIMEOUT)
            self.url = rewrite_url(self.client.config, str(grant["container_sas_uri"]))
            self.generation += 1
            self.refreshed += 1


# --- threads and errors --------------------------------------------------------------------


def _threadsafe(report: Callable[[T], None]) -> Callable[[T], None]:
    """``report`` called on the event loop's thread, whichever thread reports."""
    loop = asyncio.get_running_loop()

    def threadsafe(value: T) -> None:
        loop.call_soon_threadsafe(report, value)
    return threadsafe


async def _in_thread(work: Callable[[], T], stop: threading.Event) -> T:
    """Run blocking storage work in a (daemon) thread. Cancelled (Ctrl-C), we set ``stop`` so
    the thread ends after the blocks on the wire; storage errors become ours."""
    done: Future[T] = Future()

    def run() -> None:
        done.set_running_or_notify_cancel()  # from now on, cancelling the awaiter is ours
        try:
            done.set_result(work())
        except BaseException as exc:  # handed to the awaiting task
            done.set_exception(exc)

    thread = threading.Thread(target=run, name="aimodels-upload-reader", daemon=True)
    thread.start()
    try:
        with storage_errors("the upload", wording=UPLOAD):  # the code and status, never the SAS
            return await asyncio.wrap_future(done)
    except asyncio.CancelledError:
        stop.set()
        raise
    except UploadStopped as exc:
        raise AimodelsError("Upload interrupted. Run the same command to resume.") from exc


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]
