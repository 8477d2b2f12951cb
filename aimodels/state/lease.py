"""The azureblob backend's state lock: a finite blob lease, renewed while the command runs.

Terraform's azurerm backend takes an *infinite* lease, so a runner that dies leaves the state
locked until someone breaks it by hand (hashicorp/terraform#28374). We take a lease of
``leaseSeconds`` (15 to 60, default 60) on a small lock blob beside the state
(``<blob>.lock``), with the lock id as the lease id, and a daemon thread renews it every third
of that time. A holder that dies stops renewing, and its lease runs out by itself at most
``leaseSeconds`` after its last renewal; the next run then takes the lock and says whose it
was. Before every state write the holder renews at once: a write happens only while the lease
is certainly ours, and the write is also conditional on the state's ETag (``state.blob``),
so even a lost lease cannot overwrite newer state.

Who holds the lock is in the lock blob's metadata (who, host, pid, command, when, lock id,
lease seconds), written right after the lease is taken and cleared on release. A second
writer is refused (exit 6) with that; ``force-unlock LOCK_ID`` releases the lease at once
(the id must be the lease's, so a typo or an old id cannot take the lock from a live run).
"""

from __future__ import annotations

import logging
import string
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import quote, unquote

from aimodels.blob.store import BlobStore
from aimodels.errors import AimodelsError, PreconditionError
from aimodels.state.lock import LockInfo, new_lock_info

#: Azure's bounds for a finite lease, in seconds.
MIN_LEASE_SECONDS = 15
MAX_LEASE_SECONDS = 60
DEFAULT_LEASE_SECONDS = 60

_LOG = logging.getLogger("aimodels.state")
#: Metadata values must be ASCII: everything printable stays as it is, the rest is %-quoted.
_SAFE = "".join(c for c in string.punctuation if c != "%") + " "


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds (or last held) the lease, as its metadata says, and its lease length."""

    info: LockInfo
    lease_seconds: int


class BlobLock:
    """A held lease on the lock blob; ``release()`` it, or use it as a context manager."""

    def __init__(self, store: BlobStore, name: str, info: LockInfo, lease_seconds: int,
                 previous: LockInfo | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.name, self.info = store, name, info
        self.lease_seconds = lease_seconds
        #: The holder before us that never released its lease (it died): said to the user.
        self.previous = previous
        self.released = False
        self._clock = clock
        self._renewed = clock()
        self._lost = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_renewing, daemon=True,
                                        name="aimodels-lease")
        self._thread.start()

    @classmethod
    def acquire(cls, store: BlobStore, name: str, command: str, lease_seconds: int,
                where: str, now: Callable[[], float] = time.time) -> BlobLock:
        """Take the lease for ``command``, or raise PreconditionError naming its holder."""
        info = new_lock_info(command, now())
        for _ in range(3):  # the lease may run out between our attempt and our look
            if store.acquire_lease(name, lease_seconds, info.id):
                before = store.lease_view(name)
                previous = holder(before.metadata) if before is not None else None
                store.set_metadata(name, lock_metadata(info, lease_seconds), info.id)
                return cls(store, name, info, lease_seconds,
                           previous.info if previous is not None else None)
            view = store.lease_view(name)
            if view is not None and view.leased:
                raise held_error(where, holder(view.metadata), now())
        raise PreconditionError(f"Could not take the lock of the {where}: it keeps changing "
                                "hands")

    def confirm(self) -> None:
        """Renew the lease now; PreconditionError when it is not ours any more (a
        force-unlock, or a pause longer than the lease), so nothing more is written."""
        if not self._lost and not self.released:
            self._renew()
        self.check()

    def check(self) -> None:
        """PreconditionError when the background renewal found the lease lost (no request)."""
        if self._lost:
            raise PreconditionError(
                f"The state lock {self.info.id} was lost: {self._lost}. Nothing more is "
                "written to the state by this run",
                hint="What was done is in the state and what was in flight in the journal: "
                     "run the command again to settle it.")
        if self.released:
            raise PreconditionError(f"The state lock {self.info.id} was already released")

    def release(self) -> None:
        """Clear the metadata and release the lease, if still ours. A failure here is only
        logged: the lease then runs out by itself within ``lease_seconds``."""
        if self.released:
            return
        self.released = True
        self._stop.set()
        self._thread.join(timeout=5)
        if self._lost:
            return
        try:
            self.store.set_metadata(self.name, {}, self.info.id)
            self.store.release_lease(self.name, self.info.id)
        except AimodelsError as exc:
            _LOG.warning("could not release the state lock %s (%s); its lease runs out by "
                         "itself within %d s", self.info.id, exc.message, self.lease_seconds)

    def __enter__(self) -> BlobLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _renew(self) -> None:
        """One renewal. A lease found taken is lost for good; a failed renewal raises, unless
        the lease would have run out since the last success (then it is lost too)."""
        try:
            if self.store.renew_lease(self.name, self.info.id):
                self._renewed = self._clock()
            else:
                self._lost = "another run released or took it"
        except AimodelsError as exc:
            if self._clock() - self._renewed < self.lease_seconds:
                raise
            self._lost = f"it could not be renewed for {self.lease_seconds} s ({exc.message})"

    def _keep_renewing(self) -> None:
        """Renew every third of the lease until released or lost; a failed renewal is tried
        again at the next tick (two more chances before the lease would run out)."""
        interval = self.lease_seconds / 3
        while not self._lost and not self._stop.wait(interval):
            try:
                self._renew()
            except AimodelsError as exc:
                _LOG.warning("renewing the state lock failed (%s); trying again", exc.message)
            except Exception as exc:  # a bug here must not end the renewals silently
                self._lost = f"renewing it failed: {type(exc).__name__}: {exc}"


def lock_metadata(info: LockInfo, lease_seconds: int) -> dict[str, str]:
    """The lock blob's metadata for ``info`` (ASCII, %-quoted where needed)."""
    fields = {"lockid": info.id, "owner": info.owner, "host": info.host, "pid": str(info.pid),
              "command": info.command, "created": info.created,
              "leaseseconds": str(lease_seconds)}
    return {key: quote(value, safe=_SAFE) for key, value in fields.items()}


def holder(metadata: Mapping[str, str]) -> LeaseHolder | None:
    """Who the metadata says holds the lease; None when it records nobody (or garbage)."""
    fields = {key.lower(): unquote(value) for key, value in metadata.items()}
    try:
        info = LockInfo(fields["lockid"], fields["owner"], fields["host"], int(fields["pid"]),
                        fields["command"], fields["created"])
        info.describe()  # a created time that is no ISO date is garbage
        return LeaseHolder(info, int(fields.get("leaseseconds", DEFAULT_LEASE_SECONDS)))
    except (KeyError, ValueError):
        return None


def held_error(where: str, held: LeaseHolder | None, now: float) -> PreconditionError:
    """The refusal of a second writer: who holds the lock, whether it looks dead, and when
    its lease runs out by itself."""
    if held is None:
        return PreconditionError(
            f"The {where} is locked by a run that has not recorded itself yet",
            hint="Run the command again in a moment to see who holds it.")
    message = f"State is locked by {held.info.describe(now)}"
    expiry = (f"its lease runs out by itself at most {held.lease_seconds} s after its last "
              "renewal")
    if held.info.is_stale():
        return PreconditionError(
            f"{message}; that process is gone from this host, so the lock is stale: {expiry}",
            hint=f"Run the command again in {held.lease_seconds} s, or `aimodels force-unlock "
                 f"{held.info.id}` now.")
    return PreconditionError(
        f"{message} (lock id {held.info.id})",
        hint=f"Wait for it to finish. A holder that died stops renewing: {expiry}. If it is "
             f"gone, `aimodels force-unlock {held.info.id}` releases it at once.")
