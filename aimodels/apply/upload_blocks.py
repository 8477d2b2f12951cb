"""The resumable block upload under ``apply.upload``: stage fixed-size blocks with deterministic
ids in parallel, hash the content in the same read pass, commit once the caller agrees.

Block ``i`` of a file has the id ``f"{i:08d}"`` (base64 on the wire), so any run can ask the
service which blocks a blob already holds (``get_block_list``) and send only the others: a
staged block is skipped when its size is the one expected, a blob whose committed list is
exactly ours is not touched. One thread reads each file in order, feeding sha256 (the plan's
digest) and handing the blocks to send to ``concurrency`` workers; at most ``concurrency + 1``
blocks are in memory at once, so memory does not grow with the file. Each block carries a
checksum the service verifies before it stages the block (``BLOCK_CHECKS``: by default its
CRC64, ``x-ms-content-crc64``; ``AIMODELS_UPLOAD_BLOCK_CHECK=md5`` sends its MD5 instead): a
block corrupted on the way is refused by the service and sent again, up to
``CHECK_RETRIES`` times.

The SAS comes from a ``SasSource``: on a 403 that says the signature no longer holds (it
expired mid-upload), the source fetches a fresh one and the block is sent again with it.
What the data store is asked goes through ``blob.blocks`` (this module imports no storage
SDK); everything here is synchronous and runs in worker threads; ``stop`` ends it early
(Ctrl-C), after the blocks already on the wire.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aimodels.apply.transfer import Transfer, TransferMeter
from aimodels.blob.blocks import BlockBlob, BlockBlobs, BlockOptions, BlockRefused, Check
from aimodels.errors import AimodelsError, UsageError
from aimodels.weights.cache import stat_key
from aimodels.weights.source import WeightsFile

T = TypeVar("T")

MIB = 1024 * 1024
#: 8 MiB blocks keep a 400 GB file under the 50,000-block limit and amortize per-request cost.
BLOCK_SIZE = 8 * MIB
MAX_BLOCKS = 50_000
#: Azure's largest block (service version 2019-12-12 and later).
MAX_BLOCK_SIZE = 4000 * MIB
DEFAULT_CONCURRENCY = 8
#: How often a block refused for a wrong checksum (corrupted in transit) is sent again.
CHECK_RETRIES = 3
#: The per-block checks, by name: what azure-storage-blob's ``validate_content`` sends.
#: ``crc64`` (Azure Storage's CRC64, computed by the native azure-storage-extensions, about
#: 1.7 GB/s a core) is the default: it costs less than half the CPU of ``md5`` (OpenSSL, about
#: 750 MB/s), which is for services that do not check CRC64 (Azurite). ``none`` only measures
#: what a check costs (benchmarks/upload_throughput.py).
BLOCK_CHECKS: Mapping[str, Check] = {
    "crc64": "crc64", "md5": "md5", "none": None}
BLOCK_CHECK_ENV = "AIMODELS_UPLOAD_BLOCK_CHECK"
#: The hint when the data store refuses the blocks' CRC64 (strict Azurite).
CRC64_REFUSED = ("The data store does not take the blocks' CRC64 (x-ms-content-crc64): Azurite "
                 "refuses it in strict mode and ignores it with --loose. Set "
                 f"{BLOCK_CHECK_ENV}=md5 to upload there with each block's MD5, then run the "
                 "same command to resume.")
#: How often one block may ask for a fresh SAS before the refusal is taken as final.
SAS_RETRIES = 2


class UploadStopped(Exception):
    """The upload was asked to stop (``stop`` set); what was staged stays staged."""


@dataclass(frozen=True, slots=True)
class UploadSettings:
    """How uploads run. ``block_size`` applies to new uploads (a resumed one keeps the size it
    started with); ``retry_total`` is azure-storage-blob's per-request retry count (None: the
    SDK's default); ``request_hook`` is azure-core's ``raw_request_hook`` (tests count and
    corrupt requests with it). ``block_check`` is the checksum each block carries for the
    service to verify (a key of ``BLOCK_CHECKS``)."""

    block_size: int = BLOCK_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    progress_every: float = 1.0
    retry_total: int | None = None
    block_check: str = "crc64"
    request_hook: Callable[[Any], None] | None = field(default=None, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> UploadSettings:
        """``AIMODELS_UPLOAD_BLOCK_SIZE`` (bytes, or with a KiB/MiB suffix) and
        ``AIMODELS_UPLOAD_CONCURRENCY``, where unset or invalid values keep the defaults;
        ``AIMODELS_UPLOAD_BLOCK_CHECK`` (``crc64`` or ``md5``), where any other value is a
        UsageError: the integrity check is never chosen silently."""
        size = _parse_size(env.get("AIMODELS_UPLOAD_BLOCK_SIZE", ""))
        workers = env.get("AIMODELS_UPLOAD_CONCURRENCY", "")
        return cls(block_size=size or BLOCK_SIZE,
                   concurrency=int(workers) if workers.isdigit() and int(workers) > 0
                   else DEFAULT_CONCURRENCY,
                   block_check=_block_check(env.get(BLOCK_CHECK_ENV, "")))

    def block_size_for(self, largest_file: int) -> int:
        """The configured block size, grown when the largest file would need more than
        50,000 blocks of it."""
        needed = -(-largest_file // MAX_BLOCKS)
        return min(max(self.block_size, needed), MAX_BLOCK_SIZE)


class SasSource(Protocol):
    """Where the uploader gets its SAS: ``current()`` is (generation, container URL with the
    SAS query); ``refresh(generation)`` replaces that generation with a fresh SAS (a no-op
    when another thread already did)."""

    def current(self) -> tuple[int, str]: ...

    def refresh(self, generation: int) -> None: ...


@dataclass(frozen=True, slots=True)
class StagedFile:
    """One file after staging: its sha256 as read, and whether its blob was already
    committed with exactly our blocks (nothing to commit then)."""

    relative: str
    size: int
    sha256: str
    committed: bool


@dataclass(frozen=True, slots=True)
class StageReport:
    """What staging did: per file, and block/byte counts sent now or found from before."""

    files: tuple[StagedFile, ...]
    blocks_sent: int
    blocks_skipped: int
    bytes_sent: int
    bytes_skipped: int
    seconds: float


def block_id(index: int) -> str:
    """The id of block ``index`` (the SDK base64-encodes it): fixed width, so every id of a
    blob has the same length, as the service requires."""
    return f"{index:08d}"


def block_spans(size: int, block_size: int) -> list[tuple[int, int]]:
    """(offset, length) of each block of a ``size``-byte file; none for an empty file."""
    return [(offset, min(block_size, size - offset)) for offset in range(0, size, block_size)]


@dataclass(slots=True)
class _FileJob:
    """One file's blob and what the service already holds of it."""

    file: WeightsFile
    blob_name: str
    spans: list[tuple[int, int]]
    staged: dict[str, int] = field(default_factory=dict)
    committed: bool = False

    def needs(self, index: int, length: int) -> bool:
        return not self.committed and self.staged.get(block_id(index)) != length

    def skipped_bytes(self) -> int:
        return sum(n for i, (_, n) in enumerate(self.spans) if not self.needs(i, n))


class BlockUploader:
    """Stages and commits the files of one upload folder (``prefix``) through a SasSource."""

    def __init__(self, sas: SasSource, settings: UploadSettings, block_size: int, prefix: str,
                 on_progress: Callable[[Transfer], None], stop: threading.Event,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sas, self.settings, self.block_size, self.prefix = sas, settings, block_size, prefix
        self.on_progress, self.stop, self.clock = on_progress, stop, clock
        self._blobs = BlockBlobs(BlockOptions(
            connections=max(10, settings.concurrency + 2), retry_total=settings.retry_total,
            request_hook=settings.request_hook, unsupported_check_hint=CRC64_REFUSED))
        self._clients: dict[tuple[int, str], BlockBlob] = {}
        self._guard = threading.Lock()
        self._jobs: list[_FileJob] = []
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.concurrency),
                                        thread_name_prefix="aimodels-upload")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._blobs.close()

    # -- staging ------------------------------------------------------------------------

    def stage(self, files: Sequence[WeightsFile]) -> StageReport:
        """Probe what the service holds, then read every file and send the missing blocks."""
        self._jobs = [_FileJob(f, self.prefix + f.relative, block_spans(f.size, self.block_size))
                      for f in files]
        for future in [self._pool.submit(self._probe, job) for job in self._jobs]:
            future.result()
        return _Stream(self, self._jobs).run()

    def _probe(self, job: _FileJob) -> None:
        """What the blob holds: its committed list if it is exactly ours, else the staged
        blocks (id -> size). A blob that does not exist yet holds nothing."""
        held = self._call(job.blob_name, lambda blob: blob.block_list())
        if held is None:
            return
        expected = [(block_id(i), n) for i, (_, n) in enumerate(job.spans)]
        job.committed = bool(held.committed) and list(held.committed) == expected
        job.staged = dict(held.uncommitted)

    def send_block(self, job: _FileJob, index: int, data: bytes) -> None:
        """Stage one block with its checksum; a block corrupted in transit (400
        Crc64Mismatch or Md5Mismatch) is sent again."""
        check = BLOCK_CHECKS[self.settings.block_check]
        for attempt in range(CHECK_RETRIES + 1):
            if self.stop.is_set():
                raise UploadStopped()
            try:
                self._call(job.blob_name,
                           lambda blob: blob.stage(block_id(index), data, check))
                return
            except BlockRefused as refused:  # the checksum: _call handles the SAS
                if attempt == CHECK_RETRIES:
                    raise refused.error from refused.error.__cause__

    # -- committing ---------------------------------------------------------------------

    def commit(self, digests: Mapping[str, str]) -> None:
        """Commit every file not committed yet, its sha256 as blob metadata."""
        pending = [job for job in self._jobs if not job.committed]
        futures = [self._pool.submit(self._commit, job, digests.get(job.file.relative, ""))
                   for job in pending]
        for future in futures:
            future.result()

    def _commit(self, job: _FileJob, sha256: str) -> None:
        blocks = [block_id(i) for i in range(len(job.spans))]
        metadata = {"sha256": sha256} if sha256 else None
        self._call(job.blob_name, lambda blob: blob.commit(blocks, metadata))
        job.committed = True

    # -- the SAS ------------------------------------------------------------------------

    def _call(self, blob_name: str, action: Callable[[BlockBlob], T]) -> T:
        """``action`` on the blob with the current SAS; a refused SAS is renewed and the
        action sent again (at most SAS_RETRIES times). Any other ``BlockRefused`` (a block's
        checksum) is the caller's to retry."""
        for attempt in range(SAS_RETRIES + 1):
            generation, blob = self._client(blob_name)
            try:
                return action(blob)
            except BlockRefused as refused:
                if refused.cure != "sas":
                    raise
                if attempt == SAS_RETRIES:
                    raise refused.error from refused.error.__cause__
                self.sas.refresh(generation)
        raise AssertionError("unreachable")

    def _client(self, blob_name: str) -> tuple[int, BlockBlob]:
        generation, container_url = self.sas.current()
        with self._guard:
            blob = self._clients.get((generation, blob_name))
            if blob is None:
                blob = self._blobs.open(container_url, blob_name)
                self._clients = {k: v for k, v in self._clients.items() if k[0] == generation}
                self._clients[(generation, blob_name)] = blob
        return generation, blob


def describe_check(name: str) -> str:
    """How an upload names its per-block check to the user (one line)."""
    if name == "crc64":
        return "each block carries its CRC64 (x-ms-content-crc64), checked by the data store"
    if name == "md5":
        return "each block carries its MD5 (Content-MD5), checked by the data store"
    return "blocks carry no checksum (a measurement setting): nothing is checked per block"


def _block_check(text: str) -> str:
    """The per-block check ``AIMODELS_UPLOAD_BLOCK_CHECK`` names (``crc64`` when unset)."""
    name = text.strip().lower() or "crc64"
    if name not in ("crc64", "md5"):
        raise UsageError(f"{BLOCK_CHECK_ENV}={text.strip()} is not a per-block check aimodels "
                         "knows", hint=f"Use {BLOCK_CHECK_ENV}=crc64 (the default) or "
                         f"{BLOCK_CHECK_ENV}=md5 (for Azurite, which does not check CRC64).")
    return name


def _parse_size(text: str) -> int | None:
    text = text.strip().lower().replace(" ", "")
    units = {"kib": 1024, "mib": MIB, "k": 1024, "m": MIB}
    for suffix, factor in units.items():
        if text.endswith(suffix) and text[:-len(suffix)].isdigit():
            return int(text[:-len(suffix)]) * factor or None
    return int(text) or None if text.isdigit() else None


class _Stream:
    """One staging pass: the reader (the calling thread) hashes every block in order and hands
    the missing ones to the uploader's workers, never more than ``concurrency + 1`` at once."""

    def __init__(self, uploader: BlockUploader, jobs: list[_FileJob]) -> None:
        self.up, self.jobs = uploader, jobs
        self.slots = threading.Semaphore(uploader.settings.concurrency + 1)
        self.failed = threading.Event()
        self.futures: list[Future[None]] = []
        total = sum(job.file.size for job in jobs)
        self.skipped = sum(job.skipped_bytes() for job in jobs)
        self.meter = TransferMeter(Transfer(total, resumed=self.skipped), uploader.on_progress,
                            uploader.settings.progress_every, uploader.clock)
        self.blocks_sent = self.blocks_skipped = 0

    def run(self) -> StageReport:
        self.meter.emit(force=True)
        files: list[StagedFile] = []
        try:
            for job in self.jobs:
                files.append(self._read(job))
        except UploadStopped:
            pass  # a worker failed, or a stop was asked: _settle says which
        except BaseException:
            self.failed.set()
            self._settle()
            raise
        error = self._settle()
        if error is not None:
            raise error
        self.meter.emit(force=True)
        moment = self.meter.moment()
        return StageReport(tuple(files), self.blocks_sent, self.blocks_skipped, moment.sent,
                           self.skipped, moment.seconds)

    def _read(self, job: _FileJob) -> StagedFile:
        digest = hashlib.sha256()
        path = job.file.path
        try:
            before = path.stat()
            with path.open("rb") as handle:
                for index, (_, length) in enumerate(job.spans):
                    self._send_or_skip(job, index, length, handle, digest)
            moved = stat_key(path.stat()) != stat_key(before) or before.st_size != job.file.size
        except OSError as exc:
            raise AimodelsError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        if moved:
            raise AimodelsError(f"{path} changed while it was being uploaded",
                                hint="Run apply again once the weights are no longer written.")
        return StagedFile(job.file.relative, job.file.size, digest.hexdigest(), job.committed)

    def _send_or_skip(self, job: _FileJob, index: int, length: int, handle: Any,
                      digest: Any) -> None:
        if self.up.stop.is_set() or self.failed.is_set():
            raise UploadStopped()
        needed = job.needs(index, length)
        if needed:
            self._take_slot()
        data = handle.read(length)
        if len(data) != length:
            raise AimodelsError(f"{job.file.path} got shorter while it was being uploaded")
        digest.update(data)
        if not needed:
            self.blocks_skipped += 1
            return
        self.blocks_sent += 1
        self.futures.append(self.up._pool.submit(self._send, job, index, data))

    def _take_slot(self) -> None:
        """Wait for room for one more block in memory (waking up to notice a stop)."""
        while not self.slots.acquire(timeout=0.2):
            if self.up.stop.is_set() or self.failed.is_set():
                raise UploadStopped()

    def _send(self, job: _FileJob, index: int, data: bytes) -> None:
        try:
            if self.failed.is_set():
                raise UploadStopped()
            self.up.send_block(job, index, data)
            self.meter.add(len(data))
        except BaseException:
            self.failed.set()
            raise
        finally:
            self.slots.release()

    def _settle(self) -> BaseException | None:
        """Wait for every block handed out; the first real failure (a stop is not one)."""
        errors = []
        for future in self.futures:
            error = future.exception()
            if error is not None:
                errors.append(error)
        real = [e for e in errors if not isinstance(e, UploadStopped)]
        if real:
            return real[0]
        return UploadStopped() if errors or self.up.stop.is_set() else None
