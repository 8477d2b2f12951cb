"""Which files a ``-f`` list means: files as named, folders scanned for ``*.yaml``/``*.yml``.

A folder scan is recursive and skips hidden folders and files (``.aimodels/``, ``.git/``,
``.github/``) and dependency or cache folders (``node_modules``, ``__pycache__``). Files are
visited in sorted order, so diagnostics and the desired state never depend on the file system.
Only regular files are read: a device (``-f /dev/null``), a FIFO or a socket, named with ``-f``
or found by a scan, is refused with what it is (reading a FIFO would block for ever).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aimodels.errors import Diagnostic, SourceLocation, error

MANIFEST_SUFFIXES = (".yaml", ".yml")
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True, slots=True)
class ManifestInput:
    """One file to read. ``explicit`` is True when ``-f`` named the file itself.

    The rules differ: a document that is not an aimodels manifest is an error in an explicit
    file and only a warning in a scanned one (a GitHub workflow next to the manifests).
    """

    path: Path
    display: str
    explicit: bool


def discover(paths: Sequence[str]) -> tuple[list[ManifestInput], list[Diagnostic]]:
    """Expand ``-f`` paths into manifest files, with a diagnostic for each path that is unusable."""
    found: dict[Path, ManifestInput] = {}
    diagnostics: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        special = _special_kind(path)
        if path.is_dir():
            files = list(_scan(path))
            if not files:
                diagnostics.append(_empty_folder(raw))
            for item in files:
                kind = _special_kind(item.path)
                if kind is not None:
                    diagnostics.append(_not_regular(item.display, kind, scanned=True))
                else:
                    found.setdefault(item.path.resolve(), item)
        elif special is not None:
            diagnostics.append(_not_regular(raw, special, scanned=False))
        elif path.is_file():
            item = ManifestInput(path, os.path.normpath(raw), explicit=True)
            found[path.resolve()] = item  # named explicitly: the stricter rules win
        else:
            diagnostics.append(_missing(raw))
    return list(found.values()), diagnostics


def _scan(folder: Path) -> Iterator[ManifestInput]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in sorted(files):
            if name.startswith(".") or not name.endswith(MANIFEST_SUFFIXES):
                continue
            joined = os.path.join(root, name)
            yield ManifestInput(Path(joined), os.path.normpath(joined), explicit=False)


#: What a path that exists but is neither a regular file nor a folder is, in words.
_SPECIAL_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                  (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists (links followed) but is neither a regular file nor a
    folder; None for those, and for a path that does not exist."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((word for test, word in _SPECIAL_KINDS if test(mode)), "not a regular file")


def _skipped(folder_name: str) -> bool:
    return folder_name.startswith(".") or folder_name in SKIPPED_FOLDERS


def _missing(raw: str) -> Diagnostic:
    return error(
        f"no such file or folder: '{raw}'",
        "-f takes a manifest file, or a folder to scan for *.yaml and *.yml files.",
        source=SourceLocation(raw),
    )


def _not_regular(raw: str, kind: str, *, scanned: bool) -> Diagnostic:
    todo = ("Move it out of the folder, or rename it so it does not end in .yaml or .yml." if
            scanned else "Pass the manifest file, or the folder that holds the manifests, with -f.")
    return error(
        f"'{raw}' is not a regular file or folder: it is {kind}",
        "aimodels reads manifests from regular *.yaml and *.yml files only, never from devices "
        f"or pipes. {todo}",
        source=SourceLocation(raw),
    )


def _empty_folder(raw: str) -> Diagnostic:
    return error(
        f"no *.yaml or *.yml files in folder '{raw}'",
        "Hidden folders (such as .aimodels/) and node_modules are not scanned.",
        source=SourceLocation(os.path.normpath(raw)),
    )
