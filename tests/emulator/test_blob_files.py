"""Blob content on disk: one file per staged block or Put Blob body, commits that move no bytes,
files removed when nothing names them (re-commit, overwrite, delete, a week-old staged block,
a crash's leftovers), ranged reads across block files, bodies streamed to disk and checked
before they are read, and content an older emulator kept in SQLite moved to files.

Driven with azure-storage-blob (or raw HTTP where the SDK cannot say it) against an emulator
whose data directory is the test's temporary directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, BlockState
from azure.storage.extensions.checksums import crc64
from blob_support import KIB, blob_client, blob_url
from hand_clock import Clock
from hypothesis import given, settings
from hypothesis import strategies as st

from aimodels.emulator.app import Emulator
from aimodels.emulator.blob.files import ContentFiles
from aimodels.emulator.blob.store import BlobStore
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.emulator.store import Store

DAY = 24 * 3600.0
MIB = 1024 * KIB


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_emulator(data: Path | None, clock: Clock) -> RunningEmulator:
    emu = Emulator(EmulatorConfig(data_dir=data), clock=clock)
    BlobStore(emu.store, emu.now).ensure_container("uploads")
    return start_in_thread(emulator=emu)


@pytest.fixture
def emulator(tmp_path: Path, clock: Clock) -> Iterator[RunningEmulator]:
    with open_emulator(tmp_path / "data", clock) as running:
        yield running


def files_of(running: RunningEmulator) -> set[str]:
    """The content files on disk (their tokens)."""
    return {token for token, _ in running.emulator.store.files.tokens()}


def block_id(n: int) -> str:
    """Block ``n``'s id as the SDK takes it (it base64-encodes ids on the wire)."""
    return f"{n:04d}"


def wire_id(n: int) -> str:
    """Block ``n``'s id on the wire (a query parameter, or a stored document)."""
    return base64.b64encode(block_id(n).encode()).decode()


def test_a_commit_lists_block_files_and_files_nothing_lists_are_removed(
        emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/a/model.bin")
    a, b, c = (os.urandom(10 * KIB) for _ in range(3))
    for n, data in enumerate((a, b, c)):
        client.stage_block(block_id(n), data)
    staged = files_of(emulator)
    assert len(staged) == 3

    client.commit_block_list([BlobBlock(block_id(n)) for n in range(3)])
    assert files_of(emulator) == staged  # a commit moves no bytes: the blocks are the blob
    assert client.download_blob().readall() == a + b + c

    client.commit_block_list([BlobBlock(block_id(2), BlockState.COMMITTED),
                              BlobBlock(block_id(0), BlockState.COMMITTED)])
    assert client.download_blob().readall() == c + a
    assert len(files_of(emulator)) == 2  # b's file went with b

    new_a = os.urandom(5 * KIB)
    client.stage_block(block_id(0), new_a)
    client.stage_block(block_id(0), new_a[::-1])  # staged again: the first one's file goes
    assert len(files_of(emulator)) == 3
    client.commit_block_list([BlobBlock(block_id(0), BlockState.LATEST)])
    assert client.download_blob().readall() == new_a[::-1]
    assert len(files_of(emulator)) == 1

    client.upload_blob(b"replaced", overwrite=True)
    assert client.download_blob().readall() == b"replaced"
    assert len(files_of(emulator)) == 1
    client.delete_blob()
    assert files_of(emulator) == set()


def test_ranged_reads_across_block_files(emulator: RunningEmulator) -> None:
    blocks = [os.urandom(n) for n in (1000, 1, 2000, 0, 500)]
    data = b"".join(blocks)
    client = blob_client(emulator, "m/b/model.bin")
    for n, block in enumerate(blocks):
        client.stage_block(block_id(n), block)
    client.commit_block_list([BlobBlock(block_id(n)) for n in range(len(blocks))])
    for offset, length in ((0, 3501), (999, 2), (1000, 1), (990, 2020), (3000, 501), (3500, 1)):
        assert client.download_blob(offset=offset, length=length).readall() == \
            data[offset:offset + length], (offset, length)

    url = blob_url(emulator, "m/b/model.bin")
    ranged = httpx.get(url, headers={"x-ms-range": "bytes=995-1005",
                                     "x-ms-range-get-content-md5": "true"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == "bytes 995-1005/3501"
    assert ranged.content == data[995:1006]
    assert base64.b64decode(ranged.headers["content-md5"]) == hashlib.md5(data[995:1006]).digest()
    whole = httpx.get(url)
    assert (whole.status_code, whole.content) == (200, data)
    assert whole.headers["content-length"] == "3501"
    beyond = httpx.get(url, headers={"Range": "bytes=3501-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == "bytes */3501"


def test_a_range_md5_is_refused_past_4_mib_as_azure_does(emulator: RunningEmulator) -> None:
    blob_client(emulator, "m/c/big.bin").upload_blob(bytes(5 * MIB))
    answer = httpx.get(blob_url(emulator, "m/c/big.bin"), headers={
        "x-ms-range": f"bytes=0-{4 * MIB}", "x-ms-range-get-content-md5": "true"})
    assert answer.status_code == 400
    assert answer.headers["x-ms-error-code"] == "OutOfRangeInput"


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), max_size=6), cut=st.tuples(st.integers(0, 250),
                                                                     st.integers(0, 250)))
def test_a_range_of_the_parts_is_that_slice_of_their_concatenation(
        sizes: list[int], cut: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as root:
        files = ContentFiles(Path(root))
        parts, whole = [], b""
        for size in sizes:
            data = os.urandom(size)
            writer = files.create()
            writer.write([data])
            parts.append([writer.finish().token, size])
            whole += data
        start, end = min(cut), max(cut)
        assert b"".join(files.open_range(parts, start, end)) == whole[start:end + 1]


def test_a_block_with_a_wrong_md5_leaves_no_file(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/d/model.bin")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(HttpResponseError) as refused:
        client.stage_block(block_id(0), b"the real block", headers={"Content-MD5": wrong})
    assert refused.value.error_code == "Md5Mismatch"
    assert files_of(emulator) == set()
    with pytest.raises(ResourceNotFoundError):
        client.get_block_list("all")  # no block, so no blob either


def test_a_block_with_a_wrong_crc64_leaves_no_file(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/d/model.bin")
    wrong = base64.b64encode(crc64.compute(b"other", 0).to_bytes(8, "little")).decode()
    with pytest.raises(HttpResponseError) as refused:
        client.stage_block(block_id(0), b"the real block",
                           headers={"x-ms-content-crc64": wrong})
    assert refused.value.status_code == 400
    assert refused.value.error_code == "Crc64Mismatch"
    assert files_of(emulator) == set()


def test_a_block_is_checked_against_azure_storage_crc64_across_write_batches(
        emulator: RunningEmulator) -> None:
    """A body of several write batches (1 MiB each) is checked whole: the SDK's CRC64
    (azure-storage-extensions, validate_content="crc64") is accepted and echoed back."""
    client = blob_client(emulator, "m/e/model.bin")
    data = os.urandom(3 * 1024 * KIB + 5)
    staged = client.stage_block(block_id(0), data, validate_content="crc64")
    expected = crc64.compute(data, 0).to_bytes(8, "little")
    assert staged["content_crc64"] == expected
    client.commit_block_list([BlobBlock(block_id=block_id(0))])
    assert client.download_blob().readall() == data


def raw_put(running: RunningEmulator, url: str, headers: dict[str, str],
            body: bytes) -> socket.socket:
    """Send a PUT's head and ``body`` (maybe less than its Content-Length) on a raw socket."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    head = f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode() + body)
    return sock


def test_a_block_over_4000_mib_is_refused_before_its_body_is_read(
        emulator: RunningEmulator) -> None:
    url = blob_url(emulator, "m/e/model.bin") + f"&comp=block&blockid={wire_id(0)}"
    sock = raw_put(emulator, url, {"Content-Length": str(4000 * MIB + 1)}, b"")
    with sock:
        sock.settimeout(10)
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413 ")
    assert "x-ms-error-code: RequestBodyTooLarge" in answer


@contextmanager
def server_log() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn logs meanwhile (an exception in the app is logged as an error there)."""
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield logged
    finally:
        logger.removeHandler(handler)


def test_a_client_gone_mid_block_leaves_no_file_and_no_traceback(
        emulator: RunningEmulator) -> None:
    url = blob_url(emulator, "m/f/model.bin") + f"&comp=block&blockid={wire_id(0)}"
    with server_log() as logged:
        sock = raw_put(emulator, url, {"Content-Length": str(8 * MIB)}, os.urandom(3 * MIB))
        deadline = time.monotonic() + 10
        while not files_of(emulator):  # the body is on its way to a file
            assert time.monotonic() < deadline
            time.sleep(0.01)
        sock.close()
        while files_of(emulator):
            assert time.monotonic() < deadline, "the partial block's file stayed"
            time.sleep(0.01)
        with pytest.raises(ResourceNotFoundError):
            blob_client(emulator, "m/f/model.bin").get_block_list("all")
    assert [r.getMessage() for r in logged] == []  # was "Exception in ASGI application"


def test_staged_blocks_go_a_week_after_the_last_put_block(
        emulator: RunningEmulator, clock: Clock) -> None:
    def blob(name: str) -> BlobClient:  # a fresh SAS each time: the clock moves by days
        return blob_client(emulator, f"m/g/{name}")

    blob("committed.bin").upload_blob(b"kept")
    blob("staged.bin").stage_block(block_id(0), b"x" * 100)
    blob("committed.bin").stage_block(block_id(1), b"y" * 100)
    clock.now += 6 * DAY
    blob("staged.bin").stage_block(block_id(2), b"z" * 100)  # its week starts again
    clock.now += 2 * DAY
    blob("other.bin").stage_block(block_id(3), b"w")  # a sweep runs
    assert [b.id for b in blob("staged.bin").get_block_list("uncommitted")[1]] == \
        [block_id(0), block_id(2)]
    assert blob("committed.bin").get_block_list("uncommitted")[1] == []
    assert blob("committed.bin").download_blob().readall() == b"kept"

    clock.now += 6 * DAY
    blob("other.bin").stage_block(block_id(3), b"v")
    with pytest.raises(ResourceNotFoundError):
        blob("staged.bin").get_block_list("all")  # a blob that only had staged blocks is gone
    assert len(files_of(emulator)) == 2  # committed.bin's content and other.bin's block


def test_opening_the_store_drops_old_staged_blocks_and_orphaned_files(
        tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"
    with open_emulator(data, clock) as running:
        blob_client(running, "m/h/model.bin").stage_block(block_id(0), b"staged")
        blob_client(running, "m/h/kept.bin").upload_blob(b"kept")
        root = running.emulator.store.files.root
    old, fresh = root / "aa" / "aa00000000000001", root / "aa" / "aa00000000000002"
    old.parent.mkdir(exist_ok=True)
    old.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written by another process")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    clock.now += 8 * DAY

    with open_emulator(data, clock) as running:
        assert not old.exists() and fresh.exists()
        assert len(files_of(running)) == 2  # kept.bin's content and the fresh file
        with pytest.raises(ResourceNotFoundError):
            blob_client(running, "m/h/model.bin").get_block_list("all")
        assert blob_client(running, "m/h/kept.bin").download_blob().readall() == b"kept"


def test_without_a_data_dir_content_lives_in_a_temporary_directory(clock: Clock) -> None:
    with open_emulator(None, clock) as running:
        blob_client(running, "m/i/model.bin").upload_blob(b"in a temporary directory")
        root = running.emulator.store.files.root
        assert len(files_of(running)) == 1
    assert not root.exists()


def test_a_copy_streams_into_one_file_and_a_missing_source_leaves_none(
        emulator: RunningEmulator) -> None:
    source = blob_client(emulator, "src/model.bin")
    data = os.urandom(200 * KIB + 3)
    source.upload_blob(data)  # 64 KiB blocks: four files
    assert len(files_of(emulator)) == 4
    copied = blob_client(emulator, "dst/model.bin")
    assert copied.start_copy_from_url(blob_url(emulator, "src/model.bin", "r"))[
        "copy_status"] == "success"
    assert copied.download_blob().readall() == data
    assert len(files_of(emulator)) == 5
    with pytest.raises(HttpResponseError):
        copied.start_copy_from_url(blob_url(emulator, "src/absent.bin", "r"))
    assert len(files_of(emulator)) == 5


def test_deleting_a_model_removes_its_files(emulator: RunningEmulator) -> None:
    api = httpx.Client(base_url=emulator.url, headers={"Authorization": "Bearer t"})
    upload = api.post("/datastore/upload/initialize", json={
        "model_name": "m", "file_size": 300 * KIB, "format": "gguf",
        "file_name": "m.gguf"}).json()
    blob = blob_client(emulator, upload["blob_prefix"] + "m.gguf")
    blob.upload_blob(os.urandom(300 * KIB))
    assert api.post("/custom-models", json={"name": "m", "version": "1",
                                            "upload_id": upload["upload_id"]}).status_code == 201
    assert files_of(emulator)
    assert api.delete("/custom-models/m").status_code == 200
    assert files_of(emulator) == set()
    api.close()


def test_content_an_older_emulator_kept_in_sqlite_moves_to_files(
        tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"
    Store(data / "emulator.sqlite3").close()  # the schema, then rows as an older one wrote them
    committed, staged = os.urandom(3000), os.urandom(700)
    old = {"container": "uploads", "created": clock.now, "modified": clock.now,
           "etag": '"0x8DD000000000001"', "committed": True, "settings": {}, "metadata": {}}
    with sqlite3.connect(data / "emulator.sqlite3") as db:
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", [
            ("blob.containers", "uploads", json.dumps({"name": "uploads", "created": clock.now,
                                                       "etag": '"0x1"'})),
            ("blob.blobs", "uploads/m/old.bin", json.dumps({
                **old, "name": "m/old.bin", "size": 3000, "uncommitted": [[wire_id(9), 700]],
                "blocks": [[wire_id(0), 1000], [wire_id(1), 2000]]})),
        ])
        db.executemany("INSERT INTO data VALUES (?, ?, ?)", [
            ("blob.content", "uploads/m/old.bin", committed),
            ("blob.blocks", "uploads/m/old.bin\x1f" + wire_id(9), staged)])

    with open_emulator(data, clock) as running:
        client = blob_client(running, "m/old.bin")
        assert client.download_blob().readall() == committed
        assert client.download_blob(offset=990, length=20).readall() == committed[990:1010]
        assert [(b.id, b.size) for b in client.get_block_list("uncommitted")[1]] == \
            [(block_id(9), 700)]
        client.commit_block_list([BlobBlock(block_id(1), BlockState.COMMITTED),
                                  BlobBlock(block_id(9))])
        assert client.download_blob().readall() == committed[1000:] + staged
        assert len(files_of(running)) == 2
    with sqlite3.connect(data / "emulator.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM data").fetchone()[0] == 0
