"""Weights on this machine: formats told by content, the digest cache keyed by stat (a re-plan
reads nothing), and a format that contradicts the manifest as a manifest error (exit 3) at the
line of ``format:``."""

from __future__ import annotations

import io
import os
import pickle
import time
import zipfile
from pathlib import Path

import pytest
from upload_support import Store, random_file, run_cli, safetensors_bytes, write_stack

from aimodels.weights.cache import RACY_NS, HashCache
from aimodels.weights.formats import detect_format, format_from_name
from aimodels.weights.hashing import hash_file, hash_local

HOUR_NS = 3600 * 10**9


def onnx_bytes() -> bytes:
    """ModelProto: ir_version 9, producer_name "pytorch", producer_version "2.3", then graph."""
    return b"\x08\x09\x12\x07pytorch\x1a\x032.3\x3a\x84\x01" + b"\x0a\x01x" * 44


def torch_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": [1.0]}, protocol=2))
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(safetensors_bytes(), "safetensors", id="safetensors"),
    pytest.param(b"GGUF\x03\x00\x00\x00" + b"\0" * 64, "gguf", id="gguf"),
    pytest.param(onnx_bytes(), "onnx", id="onnx"),
    pytest.param(torch_zip(), "pytorch", id="pytorch-zip"),
    pytest.param(pickle.dumps({"w": 1}, protocol=2), "pytorch", id="pytorch-pickle"),
    pytest.param(b'{"layers": 2}', None, id="json"),
    pytest.param(b"\x10\0\0\0\0\0\0\0{not json at all}", None, id="broken-safetensors"),
    pytest.param(b"PK\x03\x04not a zip", None, id="broken-zip"),
    pytest.param(b"GGUF\x09\x00\x00\x00", None, id="gguf-unknown-version"),
    pytest.param(b"", None, id="empty"),
])
def test_formats_are_told_by_content(tmp_path: Path, content: bytes,
                                     expected: str | None) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(content)
    assert detect_format(path) == expected


def test_a_url_only_has_its_name_to_go_by() -> None:
    assert format_from_name("https://hf.co/org/m/resolve/main/model.gguf?download=1") == "gguf"
    assert format_from_name("https://hf.co/org/m/resolve/main/pytorch_model.bin") == "pytorch"
    assert format_from_name("https://example.com/weights") is None


def test_a_folder_has_the_one_format_its_weight_files_share(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "a.safetensors").write_bytes(safetensors_bytes())
    (tmp_path / "b.safetensors").write_bytes(safetensors_bytes(b"\1" * 64))
    assert hash_local(tmp_path).format == "safetensors"
    (tmp_path / "c.bin").write_bytes(pickle.dumps([1], protocol=2))
    assert hash_local(tmp_path).formats == {"safetensors", "pytorch"}
    assert hash_local(tmp_path).format is None


def aged(path: Path) -> None:
    """Make ``path`` an hour old, so a cache entry for it is not racily clean."""
    old = time.time_ns() - HOUR_NS
    os.utime(path, ns=(old, old))


def test_the_cache_answers_from_stat_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    first = random_file(path, 3 * 1024 * 1024)
    aged(path)
    cache = HashCache(tmp_path / "cache.json")
    assert hash_file(path, cache).sha256 == first
    cache.save()
    st = path.stat()
    with path.open("r+b") as handle:  # same size, same inode, mtime put back: stat unchanged
        handle.write(b"edited")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    reloaded = HashCache(tmp_path / "cache.json")
    assert hash_file(path, reloaded).sha256 == first  # proof that nothing was read

    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # a real edit moves mtime
    assert hash_file(path, reloaded).sha256 != first


def test_a_file_written_as_it_was_hashed_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    random_file(path, 1024)
    cache = HashCache(None)
    st = path.stat()
    digest = hash_file(path, cache)
    assert cache.lookup(path, st) is None  # mtime within RACY_NS of the hashing: racily clean
    cache.store(path, st, digest, st.st_mtime_ns + RACY_NS + 1)
    assert cache.lookup(path, st) == digest


def test_a_replaced_file_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    random_file(path, 2048)
    aged(path)
    cache = HashCache(None)
    before = hash_file(path, cache)
    replacement = tmp_path / "new.safetensors"
    random_file(replacement, 2048)
    os.utime(replacement, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.replace(replacement, path)  # same size and mtime, another inode
    assert hash_file(path, cache).sha256 != before.sha256


def test_a_format_contradicting_the_manifest_is_a_manifest_error_at_its_line(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, "llama", "./llama.gguf", fmt="safetensors")
    (tmp_path / "llama.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\0" * 64)

    code, out, err = run_cli(["--endpoint", store.url, "plan", "-f", str(stack)], capsys)

    assert code == 3, out + err
    model = stack / "model.yaml"
    line = next(i for i, text in enumerate(model.read_text().splitlines(), 1)
                if text.strip().startswith("format:"))
    assert f"model.yaml:{line}:" in err
    assert "spec.format: the weights are gguf, not safetensors" in err
    assert store.proxy.count("PUT", "block") == 0


def test_an_https_source_without_a_known_extension_needs_a_format(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, "llama", "https://example.com/llama", fmt="safetensors")
    text = (stack / "model.yaml").read_text().replace("  format: safetensors\n", "")
    (stack / "model.yaml").write_text(text)

    code, out, err = run_cli(["--endpoint", store.url, "plan", "-f", str(stack)], capsys)

    assert code == 3, out + err
    assert "spec.format: set the format: the weights do not tell it" in err
