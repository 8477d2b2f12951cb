"""The resumable-upload record: what an interrupted upload leaves for the next apply to find.

An upload writes ``<model>.json`` beside the state *before* its first block goes out (in
``.aimodels/uploads/`` with the local backend; as ``<blob>.uploads/<model>.json`` with the
azureblob one, so that a run on another machine resumes it): which source and content it is
for (the path or URL, the planned sha256, the size and the file listing), and where the
blocks go (the registry's ``upload_id``, the blob folder, the block size). The record holds
no SAS: a run always asks the registry for a fresh one, and writes to the recorded folder
with it.

The next apply of the same CustomModel finds the record by the model name (the state lock
keeps two applies of one Stack apart) and resumes only when it describes the same content, so
edited weights start a new upload instead of mixing blocks. The record is removed once the
model is registered. A run killed between registration and the state write leaves a record
for content that is registered; the journal's recovery adopts the model, and the record is
replaced the next time that model uploads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aimodels.state.backend import UPLOAD_SPEED_FILE as _SPEED
from aimodels.state.backend import UPLOADS_DIR, FileRecordFolder, RecordFolder

_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """One upload in progress. ``files`` lists (relative path, size); ``sha256`` is the
    planned digest (None for a URL source, whose bytes we never read)."""

    model: str
    source: str
    sha256: str | None
    size: int
    files: tuple[tuple[str, int], ...]
    upload_id: str
    container: str
    blob_prefix: str
    block_size: int
    created_at: str = ""

    def describes(self, source: str, sha256: str | None, size: int,
                  files: Sequence[tuple[str, int]]) -> bool:
        """True when this record is for exactly this content (so its blocks can be reused).
        Local weights are compared by digest and listing, not by path: another checkout (a
        CI runner in another folder) resumes the upload of the same bytes."""
        listing = tuple(tuple(f) for f in files)
        if sha256 is not None:
            return (self.sha256, self.size, self.files) == (sha256, size, listing)
        return (self.source, self.sha256, self.size, self.files) == \
            (source, sha256, size, listing)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["files"] = [list(f) for f in self.files]
        return {"version": _VERSION, **body}

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> UploadRecord:
        fields = {k: v for k, v in body.items() if k != "version"}
        fields["files"] = tuple((str(r), int(s)) for r, s in fields.get("files", ()))
        return cls(**fields)


class UploadRecords:
    """The records of one Stack: in ``folder`` (the state backend's ``upload_records()``),
    by default ``<data dir>/uploads/``. The measured upload speed is about this machine, so
    it always stays in ``<data dir>/uploads/``."""

    def __init__(self, data_dir: Path, folder: RecordFolder | None = None) -> None:
        self.folder = data_dir / UPLOADS_DIR
        self.records: RecordFolder = folder or FileRecordFolder(self.folder)

    def load(self, model: str) -> UploadRecord | None:
        """The record of ``model``, or None (none, unreadable, or from another version)."""
        try:
            raw = self.records.read(_name(model))
            if raw is None:
                return None
            body = json.loads(raw.decode("utf-8"))
            if body.get("version") != _VERSION:
                return None
            return UploadRecord.from_dict(body)
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def save(self, record: UploadRecord) -> None:
        """Write the record whole and durably: it must survive the kill it exists for."""
        data = json.dumps(record.to_dict(), indent=1, sort_keys=True).encode("utf-8")
        self.records.write(_name(record.model), data)

    def remove(self, model: str) -> None:
        self.records.remove(_name(model))

    def save_speed(self, bytes_per_second: float) -> None:
        """Remember the speed of the last large upload (for the next estimate)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / _SPEED).write_text(json.dumps({"bytesPerSecond": bytes_per_second}))

    def load_speed(self) -> float | None:
        try:
            value = json.loads((self.folder / _SPEED).read_text())["bytesPerSecond"]
            return float(value) if value > 0 else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def all(self) -> list[UploadRecord]:
        """Every readable record (for ``uploads list`` and tests)."""
        found = []
        for name in self.records.names():
            if name == _SPEED or not name.endswith(".json"):
                continue
            record = self.load(name.removesuffix(".json"))
            if record is not None:
                found.append(record)
        return found


def _name(model: str) -> str:
    return f"{_UNSAFE.sub('_', model)}.json"
