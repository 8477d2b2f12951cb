"""Where a CustomModel's weights come from: ``spec.path`` as a local file, a local folder (every
file under it, relative paths kept), or a URL the service copies from itself.

The digest of a folder is the sha256 of its listing (relative path, size, sha256 of each file,
sorted by path), so a rename or an edit of any file changes it; a single file's digest is the
sha256 of its bytes. The planner and the uploader both use ``folder_digest``, so they agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aimodels.errors import AimodelsError
from aimodels.model.desired import DesiredResource

URL_PREFIXES = ("https://", "http://")


@dataclass(frozen=True, slots=True)
class WeightsFile:
    """One file to hash or upload: its path inside the upload folder (posix) and on this
    machine, and its size when listed."""

    relative: str
    path: Path
    size: int


def is_url(raw: str) -> bool:
    """True for a source the storage service copies itself (``https://``; ``http://`` only
    reaches this far from tests, as the manifest schema refuses it)."""
    return raw.startswith(URL_PREFIXES)


def source_of(resource: DesiredResource) -> str:
    """``spec.path`` as written (empty when missing)."""
    return str(resource.spec.get("path", "") or "")


def local_root(resource: DesiredResource) -> Path | None:
    """The absolute local file or folder of ``spec.path``; None for a URL or no path."""
    raw = source_of(resource)
    if not raw or is_url(raw):
        return None
    return (resource.base_dir / raw).resolve()


def weights_files(root: Path) -> list[WeightsFile]:
    """The file ``root``, or every file under the folder ``root`` sorted by relative path."""
    if root.is_file():
        return [WeightsFile(root.name, root, root.stat().st_size)]
    if not root.is_dir():
        raise AimodelsError(f"The weights path {root} does not exist",
                            hint="Fix spec.path (relative to the manifest), then plan again.")
    files = sorted((p for p in root.rglob("*") if p.is_file()),
                   key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise AimodelsError(f"The weights folder {root} holds no file",
                            hint="Point spec.path at the folder that holds the weights.")
    return [WeightsFile(p.relative_to(root).as_posix(), p, p.stat().st_size) for p in files]


def folder_digest(entries: Sequence[tuple[str, int, str]]) -> str:
    """The digest of a folder from its (relative path, size, sha256) entries, in path order."""
    listing = hashlib.sha256()
    for relative, size, digest in sorted(entries):
        listing.update(f"{relative}\0{size}\0{digest}\n".encode())
    return listing.hexdigest()
