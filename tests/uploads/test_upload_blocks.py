"""The block upload against the emulator's blob endpoint, in-process, every request counted by
a proxy: each block goes once, content is hashed in the same pass and checked against the
plan, an interrupted upload resumes from what the service holds, an expired SAS is replaced
mid-way, and a block corrupted on the wire is sent again (or refused)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from upload_support import (
    KIB,
    MIB,
    Crash,
    Store,
    hook_on_block,
    random_file,
    register,
    stored,
    upload,
)

from aimodels.apply.transfer import Transfer
from aimodels.apply.upload_blocks import SAS_RETRIES, UploadSettings
from aimodels.apply.upload_record import UploadRecords
from aimodels.errors import AimodelsError, AuthError, RemoteError


def test_each_block_is_sent_once_and_hashed_in_the_same_pass(store: Store,
                                                              tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 8 * MIB + 123)
    notes: list[Any] = []

    done = upload(store.url, source, sha, tmp_path / ".aimodels", notes=notes)

    assert done.sha256 == sha and done.size == 8 * MIB + 123 and done.how == "sent"
    assert done.staged is not None and done.staged.blocks_sent == 33
    assert len(store.proxy.blocks) == 33 and store.proxy.sent_twice() == []
    assert store.proxy.count("PUT", "blocklist", 201) == 1
    model = register(store.url, done)
    blobs = stored(store.url, model["blob_prefix"])
    assert hashlib.sha256(blobs["model.safetensors"]).hexdigest() == sha
    transfers = [n for n in notes if isinstance(n, Transfer)]
    assert transfers[0].done == 0 and transfers[-1].finished
    assert [t.done for t in transfers] == sorted(t.done for t in transfers)


def test_an_interrupted_upload_resumes_and_sends_only_the_rest(store: Store,
                                                               tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 16 * MIB)
    data = tmp_path / ".aimodels"

    def die(request: Any) -> None:
        raise Crash()

    crashing = UploadSettings(block_size=256 * KIB, concurrency=1, progress_every=0.0,
                              request_hook=hook_on_block(die, "00000020"))
    with pytest.raises(Crash):
        upload(store.url, source, sha, data, crashing)
    record = UploadRecords(data).load("llama")
    assert record is not None and record.sha256 == sha
    staged_before = len(store.proxy.blocks)
    assert 0 < staged_before < 64

    done = upload(store.url, source, sha, data)

    assert done.how == "resumed" and done.upload_id == record.upload_id
    assert done.staged is not None
    assert done.staged.blocks_skipped == staged_before
    assert done.staged.blocks_sent == 64 - staged_before
    assert store.proxy.sent_twice() == [] and len(store.proxy.blocks) == 64
    model = register(store.url, done)
    assert hashlib.sha256(stored(store.url, model["blob_prefix"])["model.safetensors"]
                          ).hexdigest() == sha


def test_a_sas_expiring_mid_upload_is_replaced_and_no_block_goes_twice(
        store: Store, tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 8 * MIB)

    def expire(request: Any) -> None:
        if not store.clock.offset:
            store.clock.offset = 3 * 3600  # past the SAS's lifetime (30 min for this size)

    settings = UploadSettings(block_size=256 * KIB, concurrency=2, progress_every=0.0,
                              request_hook=hook_on_block(expire, "00000010"))
    done = upload(store.url, source, sha, tmp_path / ".aimodels", settings)

    assert store.proxy.count("POST", "", 200) >= 2  # initialize, then again for a fresh SAS
    assert store.proxy.count("PUT", "block", 403) >= 1
    assert store.proxy.sent_twice() == [] and len(store.proxy.blocks) == 32
    model = register(store.url, done)
    assert hashlib.sha256(stored(store.url, model["blob_prefix"])["model.safetensors"]
                          ).hexdigest() == sha


def test_a_sas_refused_again_after_renewals_ends_the_upload_as_refused(
        store: Store, tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 1 * MIB)

    def forge(request: Any) -> None:  # every signature for this block is a wrong one
        http = request.http_request
        http.url = re.sub(r"sig=[^&]*", "sig=AAAA", http.url)

    settings = UploadSettings(block_size=256 * KIB, concurrency=1, progress_every=0.0,
                              request_hook=hook_on_block(forge, "00000002"))
    with pytest.raises(AuthError) as failed:
        upload(store.url, source, sha, tmp_path / ".aimodels", settings)

    assert failed.value.message == \
        "The data store refused the upload SAS: 403 AuthenticationFailed"
    assert "resume" in failed.value.hint and "sig=" not in failed.value.message
    assert isinstance(failed.value.__cause__, HttpResponseError)  # kept for --debug
    assert store.proxy.count("PUT", "block", 403) == SAS_RETRIES + 1
    assert store.proxy.count("POST", "", 200) == SAS_RETRIES + 1  # initialize, then renewals
    assert store.proxy.count("PUT", "blocklist") == 0


#: The per-block checks and the header each puts on a Put Block.
CHECK_HEADERS = [("crc64", "x-ms-content-crc64"), ("md5", "Content-MD5")]


@pytest.mark.parametrize(("check", "header"), CHECK_HEADERS)
def test_a_block_corrupted_on_the_wire_is_refused_by_its_checksum_and_sent_again(
        store: Store, tmp_path: Path, check: str, header: str) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 4 * MIB)
    corrupted = []
    sent_headers: set[str] = set()

    def flip(request: Any) -> None:
        sent_headers.update(k.lower() for k in request.http_request.headers
                            if k.lower() in ("content-md5", "x-ms-content-crc64"))
        if not corrupted:
            body = bytearray(request.http_request.data)
            body[100] ^= 0xFF
            request.http_request.data = bytes(body)
            corrupted.append(True)

    settings = UploadSettings(block_size=256 * KIB, concurrency=2, progress_every=0.0,
                              block_check=check, request_hook=hook_on_block(flip, "00000005"))
    done = upload(store.url, source, sha, tmp_path / ".aimodels", settings)

    assert sent_headers == {header.lower()}  # one check per block, the one chosen
    assert store.proxy.count("PUT", "block", 400) == 1
    assert store.proxy.blocks[next(k for k in store.proxy.blocks if k[1] == "00000005")] == 1
    model = register(store.url, done)
    assert hashlib.sha256(stored(store.url, model["blob_prefix"])["model.safetensors"]
                          ).hexdigest() == sha


@pytest.mark.parametrize(("check", "code"), [("crc64", "Crc64Mismatch"), ("md5", "Md5Mismatch")])
def test_a_block_corrupted_every_time_fails_the_upload_and_nothing_is_committed(
        store: Store, tmp_path: Path, check: str, code: str) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 2 * MIB)

    def flip(request: Any) -> None:
        body = bytearray(request.http_request.data)
        body[0] ^= 0xFF
        request.http_request.data = bytes(body)

    settings = UploadSettings(block_size=256 * KIB, concurrency=2, progress_every=0.0,
                              block_check=check, request_hook=hook_on_block(flip, "00000003"))
    with pytest.raises(RemoteError) as failed:
        upload(store.url, source, sha, tmp_path / ".aimodels", settings)

    assert failed.value.code == code
    assert "Run the same command to resume" in failed.value.message
    assert "sig=" not in failed.value.message
    assert store.proxy.count("PUT", "block", 400) == 4  # the first try and three more
    assert store.proxy.count("PUT", "blocklist") == 0


def test_content_that_is_not_the_planned_one_is_not_committed(store: Store,
                                                                tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    random_file(source, 1 * MIB)
    data = tmp_path / ".aimodels"

    with pytest.raises(AimodelsError, match="changed since the plan"):
        upload(store.url, source, "0" * 64, data)

    assert store.proxy.count("PUT", "blocklist") == 0
    assert UploadRecords(data).load("llama") is None  # the next run starts afresh


def test_a_folder_keeps_relative_paths_and_hashes_like_the_plan(store: Store,
                                                                tmp_path: Path) -> None:
    from aimodels.weights.hashing import hash_local

    folder = tmp_path / "shards"
    random_file(folder / "model-00001.safetensors", 1 * MIB + 7)
    random_file(folder / "sub" / "model-00002.safetensors", 600 * KIB)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "empty.txt").write_bytes(b"")
    planned = hash_local(folder)

    done = upload(store.url, folder, planned.sha256, tmp_path / ".aimodels")

    assert done.sha256 == planned.sha256 and done.size == planned.size
    model = register(store.url, done)
    blobs = stored(store.url, model["blob_prefix"])
    assert sorted(blobs) == ["config.json", "empty.txt", "model-00001.safetensors",
                             "sub/model-00002.safetensors"]
    assert blobs["config.json"] == b'{"layers": 2}' and blobs["empty.txt"] == b""
    assert model["file_count"] == 4


def test_content_already_registered_is_copied_by_the_service_not_uploaded(
        store: Store, tmp_path: Path) -> None:
    first = tmp_path / "a" / "model.safetensors"
    sha = random_file(first, 3 * MIB)
    register(store.url, upload(store.url, first, sha, tmp_path / ".aimodels"), name="llama")
    sent = len(store.proxy.blocks)
    twin = tmp_path / "b" / "twin.safetensors"
    twin.parent.mkdir()
    twin.write_bytes(first.read_bytes())
    notes: list[Any] = []

    done = upload(store.url, twin, sha, tmp_path / ".aimodels", notes=notes, model="llama-copy")

    assert done.how == "copied" and len(store.proxy.blocks) == sent
    assert any("registered as llama:1" in str(n) for n in notes)
    model = register(store.url, done, name="llama-copy")
    assert list(stored(store.url, model["blob_prefix"])) == ["twin.safetensors"]
    assert hashlib.sha256(stored(store.url, model["blob_prefix"])["twin.safetensors"]
                          ).hexdigest() == sha


@pytest.mark.parametrize(("value", "check"), [("", "crc64"), ("crc64", "crc64"), (" MD5 ", "md5")])
def test_the_per_block_check_comes_from_the_environment(value: str, check: str) -> None:
    env = {"AIMODELS_UPLOAD_BLOCK_CHECK": value} if value else {}
    assert UploadSettings.from_env(env).block_check == check
