"""``uploads prune``: delete orphaned uploads (weights no registered model uses) from the
registry's data store, and never a registered model's blobs.

Two steps, so the CLI can show what will go and ask in between:

1. ``select_prune`` reads the data store and picks the orphaned uploads old enough to be safe
   (``min_age``: an upload written moments ago may be an ``apply`` about to register it) and
   not being copied into; the others are listed as spared, with why.
2. ``prune_uploads`` reads the data store again (with a SAS that may delete: ``GET
   /datastore/list-sas?permissions=rdl``) and deletes a picked upload's blobs only if the upload
   is still orphaned now (no model registered from it since, none whose folder overlaps it)
   and each blob is unchanged (the delete is conditioned on the ETag listed, so a blob written
   since is kept). Anything else is kept and reported.

Deletes go through azure-storage-blob with the registry's SAS (``blob.listing.delete_blobs``),
and failures through the one storage error map. A blob already gone counts as deleted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aimodels.blob.listing import delete_blobs
from aimodels.errors import Diagnostic
from aimodels.service.reading import ReadScope, ReadTarget, run_read
from aimodels.service.uploads import Upload, read_store
from aimodels.transport.client import AzureClient

#: What ``uploads prune`` asks the registry's SAS to allow: read, delete, list.
PRUNE_PERMISSIONS = "rdl"
#: Default ``--min-age``: an apply commits an upload's blobs, then registers them at once, so
#: an orphan younger than this may be one being registered right now.
DEFAULT_MIN_AGE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Spared:
    """An upload ``uploads prune`` leaves alone, and why (a sentence for people)."""

    upload: Upload
    reason: str


@dataclass(frozen=True, slots=True)
class PruneSelection:
    """What ``uploads prune`` would delete (``doomed``) and the orphans it spares."""

    doomed: tuple[Upload, ...]
    spared: tuple[Spared, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def size_bytes(self) -> int:
        return sum(u.size_bytes for u in self.doomed)


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What ``prune_uploads`` did: the uploads deleted, and those kept at the last moment."""

    deleted: tuple[Upload, ...]
    kept: tuple[Spared, ...] = ()

    @property
    def size_bytes(self) -> int:
        return sum(u.size_bytes for u in self.deleted)


def select_prune(target: ReadTarget, min_age: float = DEFAULT_MIN_AGE_SECONDS,
                 now: datetime | None = None) -> PruneSelection:
    """The orphaned uploads to delete: every blob written at least ``min_age`` seconds before
    ``now``, and none being copied into."""
    when = now or datetime.now(UTC)

    async def work(scope: ReadScope, client: AzureClient) -> tuple[Upload, ...]:
        return (await read_store(client)).uploads

    scope, uploads = run_read(target, work)
    doomed, spared = [], []
    for upload in (u for u in uploads if u.orphaned):
        reason = _too_fresh(upload, min_age, when)
        if reason:
            spared.append(Spared(upload, reason))
        else:
            doomed.append(upload)
    return PruneSelection(tuple(doomed), tuple(spared), scope.warnings)


def prune_uploads(target: ReadTarget, selection: PruneSelection) -> PruneReport:
    """Delete the selected uploads that are still orphaned and unchanged (module docstring)."""

    async def work(scope: ReadScope, client: AzureClient) -> PruneReport:
        store = await read_store(client, PRUNE_PERMISSIONS)
        now = {u.prefix: u for u in store.uploads}
        deleted, kept = [], []
        for picked in selection.doomed:
            reason = _changed(picked, now.get(picked.prefix))
            if reason is None:
                reason = await asyncio.to_thread(delete_blobs, store.container_url,
                                                 picked.blobs)
            if reason is None:
                deleted.append(picked)
            else:
                kept.append(Spared(picked, reason))
        return PruneReport(tuple(deleted), tuple(kept))

    return run_read(target, work)[1]


def _changed(picked: Upload, now: Upload | None) -> str | None:
    """Why a picked upload must be kept after all, read again just before deleting."""
    if now is None:
        return None  # gone already
    if now.registered_as:
        return f"kept: registered since the listing, as {', '.join(now.registered_as)}"
    if {b.name for b in now.blobs} - {b.name for b in picked.blobs}:
        return "kept: new blobs were written into it since the listing"
    return None


def _too_fresh(upload: Upload, min_age: float, now: datetime) -> str | None:
    if any(b.copy_status == "pending" for b in upload.blobs):
        return "a copy into it is in progress"
    written = _parse(upload.uploaded_at)
    if written is None or min_age <= 0:
        return None
    age = (now - written).total_seconds()
    if age < min_age:
        return (f"written {_duration(max(age, 0))} ago, less than --min-age "
                f"{_duration(min_age)} (an apply may be registering it)")
    return None


def _parse(iso: str) -> datetime | None:
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h``, ``2 d``: rounded down, the way --min-age is written."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
