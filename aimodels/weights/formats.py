"""The weights format, told by a file's content (never by its name, which lies as often as not):

- safetensors: an 8-byte little-endian header length, then that many bytes of JSON (``{...}``);
- GGUF: the magic ``GGUF`` and a version 1-3;
- ONNX: a protobuf ``ModelProto``, which starts with ``ir_version`` (field 1, a small varint)
  followed by more fields of ModelProto's numbers and wire types;
- PyTorch: a zip holding ``<archive>/data.pkl`` (``torch.save`` since 1.6), or a pickle of
  protocol 2-5 (torch's legacy format, ``pytorch_model.bin`` from older tools).

Other files (``config.json``, tokenizers, READMEs) have no format: a folder's format is the one
format its weight files share. For a URL the service copies without us reading it, the file
name's extension is the only hint (``format_from_name``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

FORMATS = ("safetensors", "gguf", "onnx", "pytorch")

#: A safetensors header is JSON; real ones are kilobytes, the format caps them at 100 MB.
_SAFETENSORS_MAX_HEADER = 100_000_000
#: ModelProto fields: number -> protobuf wire type (0 varint, 2 length-delimited).
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
_EXTENSIONS = {".safetensors": "safetensors", ".gguf": "gguf", ".onnx": "onnx",
               ".pt": "pytorch", ".pth": "pytorch", ".bin": "pytorch"}
_HEAD = 64


def detect_format(path: Path) -> str | None:
    """The format of one file from its first bytes (and a zip's listing), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
        if head.startswith(b"GGUF") and len(head) >= 8 and \
                1 <= int.from_bytes(head[4:8], "little") <= 3:
            return "gguf"
        if _is_safetensors(handle, head, size):
            return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "pytorch" if _is_torch_zip(path) else None
    if _is_pickle(head):
        return "pytorch"
    return "onnx" if _is_onnx(head) else None


def detect_formats(paths: Iterable[Path]) -> set[str]:
    """The formats found among ``paths`` (files without one are left out)."""
    return {fmt for path in paths if (fmt := detect_format(path))}


def format_from_name(name: str) -> str | None:
    """The format a file name suggests (``.safetensors``, ``.gguf``, ``.onnx``, ``.pt``...),
    for sources we do not read (URLs); query strings are ignored."""
    stem = name.split("?", 1)[0].rsplit("/", 1)[-1].lower()
    suffix = "." + stem.rsplit(".", 1)[-1] if "." in stem else ""
    return _EXTENSIONS.get(suffix)


def _is_safetensors(handle: BinaryIO, head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    length = int.from_bytes(head[:8], "little")
    if not 2 <= length <= min(_SAFETENSORS_MAX_HEADER, size - 8) or head[8:9] != b"{":
        return False
    handle.seek(8)
    raw = handle.read(length)
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def _is_pickle(head: bytes) -> bool:
    """A pickle of protocol 2-5 starts with PROTO (0x80) and the protocol number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _is_torch_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _is_onnx(head: bytes) -> bool:
    """True when ``head`` parses as ModelProto fields starting with a plausible ir_version."""
    if head[:1] != b"\x08":
        return False
    position, fields = 0, 0
    while position < len(head):
        key, position = _varint(head, position)
        if key is None:
            break
        number, wire = key >> 3, key & 7
        if _ONNX_FIELDS.get(number) != wire:
            return False
        value, position = _varint(head, position)
        if value is None or (fields == 0 and not 1 <= value <= 20):
            return False
        fields += 1
        if wire == 2:
            position += value
    return fields >= 2


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    """A protobuf varint at ``position``: (value, next position), or (None, ...) if cut off."""
    value, shift = 0, 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position
