"""Where a CustomModel's weights come from: ``spec.path`` as a local file, a local folder (every
file under it, relative paths kept), or a URL the service copies from itself.

The digest of a folder is the sha256 of its listing (relative path, size, sha256 of each file,
sorted by path), so a rename or an edit of any file changes it; a single file's digest is the
sha256 of its bytes. The planner and the uploader both use ``folder_digest``, so they agree.

Local weights are confined: ``weights_files`` reads only regular files whose real path (links
resolved) lies under an allowed folder, the Stack's folder and its ``spec.weightsRoots``. So a
manifest cannot make apply hash and upload ``../../../etc/shadow``, an absolute path or a link
out of the repository (in CI, a way to send a runner's files away). Devices, FIFOs and sockets
are refused by name, never opened. Validate, plan and the uploader all go through it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aimodels.errors import ManifestError
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


class WeightsPathError(ManifestError):
    """Local weights we refuse to read: missing, empty, not a regular file or folder, or outside
    the allowed folders. ``message`` is one line, ``hint`` says what to do; neither ever holds
    file content. The loader turns it into a diagnostic at the manifest's ``path:``."""


def weights_files(root: Path, roots: Sequence[Path] | None = None) -> list[WeightsFile]:
    """The file ``root``, or every file under the folder ``root`` sorted by relative path.

    ``root`` is a resolved path (``local_root``). Every file read must be a regular file whose
    real path lies under one of ``roots`` (resolved folders; by default ``root`` itself, so a
    caller that names none gets the strictest rule). Raises WeightsPathError otherwise.
    ``WeightsFile.path`` is the real path, so what is read is what was checked.
    """
    allowed = tuple(roots) if roots is not None else (root,)
    _check_inside(root, root, allowed)
    mode = _mode(root)
    if mode is not None and stat.S_ISREG(mode):
        return [WeightsFile(root.name, root, root.stat().st_size)]
    if mode is None or not stat.S_ISDIR(mode):
        raise _not_regular(root, mode)
    files = sorted(_folder_files(root, allowed), key=lambda f: f.relative)
    if not files:
        raise WeightsPathError(f"the weights folder {root} holds no file",
                               hint="Point spec.path at the folder that holds the weights.")
    return files


def _folder_files(root: Path, allowed: Sequence[Path]) -> list[WeightsFile]:
    """Every file under ``root``, links resolved and checked. A link to a folder is refused
    (we would have to guard against loops, and a weights folder has none)."""
    found = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in sorted(dirs):
            if os.path.islink(os.path.join(folder, name)):
                raise _linked_folder(root, Path(folder, name))
        for name in names:
            here = Path(folder, name)
            real = Path(os.path.realpath(here))
            _check_inside(real, here, allowed, root=root)
            mode = _mode(real)
            if mode is None or not stat.S_ISREG(mode):
                raise _not_regular(here, mode)
            found.append(WeightsFile(here.relative_to(root).as_posix(), real,
                                     real.stat().st_size))
    return found


def is_inside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether the resolved ``path`` is one of ``roots`` or lies under one."""
    return any(path == r or path.is_relative_to(r) for r in roots)


def _check_inside(real: Path, named: Path, allowed: Sequence[Path], *,
                  root: Path | None = None) -> None:
    if is_inside(real, allowed):
        return
    what = "the weights path" if root is None else \
        f"{named.relative_to(root).as_posix()} in the weights folder {root} links to a file that"
    where = ", ".join(str(r) for r in allowed)
    raise WeightsPathError(f"{what} resolves to {real}, outside the allowed folders", hint=(
        f"aimodels reads local weights only under the Stack's folder and its spec.weightsRoots "
        f"({where}), so that a manifest cannot upload just any file of this machine. Move the "
        "weights under the Stack's folder, or list their folder in the Stack: "
        f"spec.weightsRoots: [{real.parent}]."))


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode
    except OSError:
        return None


#: What a path that is neither a regular file nor a folder is, in words.
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _not_regular(path: Path, mode: int | None) -> WeightsPathError:
    if mode is None:
        return WeightsPathError(f"the weights path {path} does not exist",
                                hint="Fix spec.path (relative to the manifest), then plan again.")
    kind = next((word for test, word in _KINDS if test(mode)), "not a regular file")
    return WeightsPathError(f"{path} is {kind}, not a regular file or folder",
                            hint="Weights are regular files: point spec.path at the weights "
                                 "file or the folder that holds them.")


def _linked_folder(root: Path, link: Path) -> WeightsPathError:
    relative = link.relative_to(root).as_posix()
    return WeightsPathError(f"{relative} in the weights folder {root} is a link to a folder",
                            hint="aimodels follows links to files only: put the files in the "
                                 "folder, or link each file.")


def shown_path(path: Path, stack_dir: Path) -> str:
    """A resolved weights path as plans show it: relative to the Stack's folder when under it
    (``weights/llama.safetensors``), else absolute (a folder of ``spec.weightsRoots``)."""
    return path.relative_to(stack_dir).as_posix() if path.is_relative_to(stack_dir) else str(path)


def folder_digest(entries: Sequence[tuple[str, int, str]]) -> str:
    """The digest of a folder from its (relative path, size, sha256) entries, in path order."""
    listing = hashlib.sha256()
    for relative, size, digest in sorted(entries):
        listing.update(f"{relative}\0{size}\0{digest}\n".encode())
    return listing.hexdigest()
