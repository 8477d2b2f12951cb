"""The resumable-upload record: what an interrupted upload leaves for the next apply to find.

An upload writes ``.aimodels/uploads/<model>.json`` beside the Stack *before* its first block
goes out: which source and content it is for (the path or URL, the planned sha256, the size
and the file listing), and where the blocks go (the registry's ``upload_id``, the blob folder,
the block size). The record holds no SAS: a run always asks the registry for a fresh one, and
writes to the recorded folder with it.

The next apply of the same CustomModel finds the record by the model name (the state lock
keeps two applies of one Stack apart) and resumes only when it describes the same content, so
edited weights start a new upload instead of mixing blocks. The record is removed once the
model is registered. A run killed between registration and the state write leaves a record
for content that is registered; the journal's recovery adopts the model, and the record is
replaced the next time that model uploads.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

UPLOADS_DIR = "uploads"
_VERSION = 1
_SPEED = "measured-speed.json"
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
        """True when this record is for exactly this content (so its blocks can be reused)."""
        return (self.source, self.sha256, self.size, self.files) == \
            (source, sha256, size, tuple(tuple(f) for f in files))

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
    """The records of one Stack, in ``<data dir>/uploads/``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / UPLOADS_DIR

    def path_of(self, model: str) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', model)}.json"

    def load(self, model: str) -> UploadRecord | None:
        """The record of ``model``, or None (none, unreadable, or from another version)."""
        try:
            body = json.loads(self.path_of(model).read_text(encoding="utf-8"))
            if body.get("version") != _VERSION:
                return None
            return UploadRecord.from_dict(body)
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def save(self, record: UploadRecord) -> None:
        """Write the record atomically (a temporary file renamed over the old one, fsynced:
        it must survive the kill it exists for)."""
        target = self.path_of(record.model)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with partial.open("w", encoding="utf-8") as handle:
            json.dump(record.to_dict(), handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)

    def remove(self, model: str) -> None:
        self.path_of(model).unlink(missing_ok=True)

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
        for path in sorted(self.folder.glob("*.json")):
            if path.name == _SPEED:
                continue
            record = self.load(path.stem)
            if record is not None:
                found.append(record)
        return found
