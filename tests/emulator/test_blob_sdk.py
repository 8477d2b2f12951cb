"""The emulator's blob endpoint driven by the real azure-storage-blob SDK over HTTP.

Blocks are kept small (64 KiB) so that block uploads, chunked downloads and paging all happen
with a few hundred KiB of data.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, BlockState, ContainerClient
from blob_support import KIB, SMALL, blob_client, blob_url, container_url

from aimodels.emulator.app import Emulator
from aimodels.emulator.blob.store import BlobStore
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """One emulator for the module: each test writes under its own blob names."""
    emu = Emulator(EmulatorConfig())
    for container in ("uploads", "listing"):
        BlobStore(emu.store, emu.now).ensure_container(container)
    with start_in_thread(emulator=emu) as running:
        yield running


def md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def test_small_file_is_one_put_blob_with_its_md5(emulator: RunningEmulator) -> None:
    data = os.urandom(10 * KIB)
    client = BlobClient.from_blob_url(blob_url(emulator, "m/a/model.bin"), **SMALL)
    client.upload_blob(data)
    props = client.get_blob_properties()
    assert props.size == len(data)
    assert props.blob_type == "BlockBlob"
    assert bytes(props.content_settings.content_md5) == md5(data)
    assert client.get_block_list("all") == ([], [])
    assert client.download_blob().readall() == data


def test_large_file_goes_in_blocks_and_downloads_in_ranges(emulator: RunningEmulator) -> None:
    data = os.urandom(300 * KIB + 7)
    client = blob_client(emulator, "m/b/weights.safetensors")
    client.upload_blob(data, max_concurrency=4)
    committed, uncommitted = client.get_block_list("all")
    assert [b.size for b in committed] == [64 * KIB] * 4 + [44 * KIB + 7]
    assert uncommitted == []
    assert client.download_blob(max_concurrency=2).readall() == data
    assert client.download_blob(offset=1000, length=5000).readall() == data[1000:6000]
    assert client.download_blob(offset=len(data) - 10).readall() == data[-10:]


def test_resume_recipe_with_deterministic_block_ids(emulator: RunningEmulator) -> None:
    blocks = [os.urandom(20 * KIB) for _ in range(5)]
    ids = [base64.b64encode(f"{i:08d}".encode()).decode() for i in range(5)]
    first = blob_client(emulator, "m/c/model.gguf")
    for block_id, block in list(zip(ids, blocks, strict=True))[:3]:
        first.stage_block(block_id, block, validate_content=True)

    resumed = blob_client(emulator, "m/c/model.gguf")  # a new process, say
    committed, uncommitted = resumed.get_block_list("uncommitted")
    assert committed == []
    assert [(b.id, b.size) for b in uncommitted] == [(i, 20 * KIB) for i in ids[:3]]
    for block_id, block in list(zip(ids, blocks, strict=True))[3:]:
        resumed.stage_block(block_id, block)
    resumed.commit_block_list([BlobBlock(block_id=i) for i in ids])

    assert resumed.download_blob().readall() == b"".join(blocks)
    committed, uncommitted = resumed.get_block_list("all")
    assert [b.id for b in committed] == ids
    assert uncommitted == []


def test_commit_can_reuse_committed_blocks_and_rejects_unknown_ones(
        emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/d/model.onnx")
    ids = ["YQ==", "Yg==", "Yw=="]
    for block_id, byte in zip(ids, b"abc", strict=True):
        client.stage_block(block_id, bytes([byte]) * 10)
    client.commit_block_list([BlobBlock(block_id=i) for i in ids])
    client.commit_block_list([BlobBlock("Yw==", BlockState.COMMITTED),
                              BlobBlock("YQ==", BlockState.COMMITTED)])
    assert client.download_blob().readall() == b"c" * 10 + b"a" * 10
    with pytest.raises(HttpResponseError) as caught:
        client.commit_block_list([BlobBlock("Yg==", BlockState.UNCOMMITTED)])
    assert caught.value.error_code == "InvalidBlockList"


def test_corrupted_block_is_refused_with_md5_mismatch(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/e/model.bin")
    client.stage_block("MDAwMA==", b"a good block", validate_content=True)
    wrong = base64.b64encode(md5(b"something else")).decode()
    with pytest.raises(HttpResponseError) as caught:
        client.stage_block("MDAwMQ==", b"the real block", headers={"Content-MD5": wrong})
    assert caught.value.status_code == 400
    assert caught.value.error_code == "Md5Mismatch"
    assert [b.id for b in client.get_block_list("uncommitted")[1]] == ["MDAwMA=="]


def test_md5_mismatch_answer_is_storage_xml(emulator: RunningEmulator) -> None:
    url = blob_url(emulator, "m/e/raw.bin") + "&comp=block&blockid=MDAwMA%3D%3D"
    wrong = base64.b64encode(md5(b"x")).decode()
    response = httpx.put(url, content=b"y", headers={"Content-MD5": wrong})
    assert response.status_code == 400
    assert response.headers["x-ms-error-code"] == "Md5Mismatch"
    assert response.headers["x-ms-request-id"]
    assert response.headers["x-ms-version"]
    assert b"<Error><Code>Md5Mismatch</Code><Message>The MD5 value" in response.content


def test_range_header_gives_206_with_content_range(emulator: RunningEmulator) -> None:
    data = bytes(range(256)) * 4
    blob_client(emulator, "m/f/r.bin").upload_blob(data)
    response = httpx.get(blob_url(emulator, "m/f/r.bin"), headers={"x-ms-range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert response.content == data[10:20]
    plain = httpx.get(blob_url(emulator, "m/f/r.bin"), headers={"Range": "bytes=1000-"})
    assert plain.content == data[1000:]
    beyond = httpx.get(blob_url(emulator, "m/f/r.bin"), headers={"Range": "bytes=5000-"})
    assert beyond.status_code == 416
    assert beyond.headers["x-ms-error-code"] == "InvalidRange"


def test_empty_blob_downloads(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/g/empty.bin")
    client.upload_blob(b"")
    assert client.download_blob().readall() == b""
    assert client.get_blob_properties().size == 0


def test_overwrite_false_refuses_an_existing_blob(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/h/model.bin")
    client.upload_blob(b"one")
    with pytest.raises(ResourceExistsError):
        client.upload_blob(b"two")
    client.upload_blob(b"three", overwrite=True)
    assert client.download_blob().readall() == b"three"


def test_metadata_is_written_read_and_replaced(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/i/model.bin")
    client.upload_blob(b"w", metadata={"sha256": "abc", "format": "gguf"})
    assert client.get_blob_properties().metadata == {"sha256": "abc", "format": "gguf"}
    etag = client.get_blob_properties().etag
    client.set_blob_metadata({"registered": "yes"})
    props = client.get_blob_properties()
    assert props.metadata == {"registered": "yes"}
    assert props.etag != etag


def test_list_blobs_with_prefix_paging_metadata_and_folders(emulator: RunningEmulator) -> None:
    writer = ContainerClient.from_container_url(container_url(emulator, "cw", "listing"))
    names = ["a/1/x.bin", "a/1/y.bin", "a/2/z.bin", "b/1/w.bin", "a/3/v.bin"]
    for name in names:
        writer.upload_blob(name, name.encode(), metadata={"origin": name[0]})
    writer.get_blob_client("a/9/staged.bin").stage_block("MDA=", b"never committed")

    reader = ContainerClient.from_container_url(container_url(emulator, "rl", "listing"))
    listed = list(reader.list_blobs(name_starts_with="a/", include=["metadata"]))
    assert [b.name for b in listed] == sorted(n for n in names if n.startswith("a/"))
    assert listed[0].size == len(b"a/1/x.bin")
    assert listed[0].metadata == {"origin": "a"}
    assert listed[0].etag and listed[0].last_modified and listed[0].creation_time
    pages = [[b.name for b in page] for page in reader.list_blobs(results_per_page=2).by_page()]
    assert pages == [["a/1/x.bin", "a/1/y.bin"], ["a/2/z.bin", "a/3/v.bin"], ["b/1/w.bin"]]
    folders = [item.name for item in reader.walk_blobs(name_starts_with="a/", delimiter="/")]
    assert folders == ["a/1/", "a/2/", "a/3/"]


def test_copy_from_url_and_put_blob_from_url(emulator: RunningEmulator) -> None:
    data = os.urandom(100 * KIB)
    source = blob_client(emulator, "src/model.bin")
    source.upload_blob(data, metadata={"kind": "weights"})
    source_url = blob_url(emulator, "src/model.bin", permission="r")

    copied = blob_client(emulator, "dst/copied.bin")
    result = copied.start_copy_from_url(source_url)
    assert result["copy_status"] == "success"
    props = copied.get_blob_properties()
    assert props.copy.status == "success"
    assert props.metadata == {"kind": "weights"}
    assert copied.download_blob().readall() == data

    put = blob_client(emulator, "dst/put.bin")
    put.upload_blob_from_url(source_url)
    assert put.download_blob().readall() == data


def test_copy_refuses_plain_http_off_loopback_and_reports_missing_sources(
        emulator: RunningEmulator) -> None:
    dest = blob_client(emulator, "dst/x.bin")
    with pytest.raises(HttpResponseError) as remote:
        dest.upload_blob_from_url("http://example.com/model.bin")
    assert remote.value.error_code == "CannotVerifyCopySource"
    with pytest.raises(HttpResponseError) as missing:
        dest.start_copy_from_url(blob_url(emulator, "src/absent.bin", permission="r"))
    assert missing.value.status_code == 404
    assert missing.value.error_code == "CannotVerifyCopySource"


def test_delete_blob_and_missing_blobs(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/j/model.bin")
    client.upload_blob(b"x")
    client.delete_blob()
    with pytest.raises(ResourceNotFoundError):
        client.get_blob_properties()
    with pytest.raises(ResourceNotFoundError):
        client.download_blob()
    with pytest.raises(ResourceNotFoundError):
        client.delete_blob()


def test_unknown_container_is_404(emulator: RunningEmulator) -> None:
    reader = ContainerClient.from_container_url(container_url(emulator, "rl", "nothere"))
    with pytest.raises(ResourceNotFoundError) as caught:
        list(reader.list_blobs())
    assert caught.value.error_code == "ContainerNotFound"


def test_responses_carry_storage_headers(emulator: RunningEmulator) -> None:
    client = blob_client(emulator, "m/k/model.bin")
    client.upload_blob(b"hello", content_settings=None)
    response = httpx.head(blob_url(emulator, "m/k/model.bin"),
                          headers={"x-ms-version": "2025-11-05"})
    assert response.status_code == 200
    assert response.headers["x-ms-version"] == "2025-11-05"
    assert response.headers["x-ms-blob-type"] == "BlockBlob"
    assert response.headers["content-length"] == "5"
    assert response.headers["etag"].startswith('"0x')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["x-ms-request-id"]
    assert base64.b64decode(response.headers["content-md5"]) == md5(b"hello")


def test_block_upload_speed_is_reasonable(emulator: RunningEmulator) -> None:
    data = os.urandom(8 * 1024 * KIB)
    client = ContainerClient.from_container_url(
        container_url(emulator), max_block_size=1024 * KIB,
        max_single_put_size=1024 * KIB).get_blob_client("m/l/big.bin")
    started = time.monotonic()
    client.upload_blob(data, max_concurrency=4)
    assert client.download_blob().readall() == data
    assert time.monotonic() - started < 10
