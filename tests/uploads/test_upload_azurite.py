"""The same uploads against Azurite (a real Blob service implementation): the emulator's
registry hands out SAS URIs for Azurite (``external_blob``), and a counting proxy sits in front
of Azurite so every accepted Put Block is seen. Azurite does not implement Put Blob From URL
(501), so URL sources are covered against the emulator only. Azurite does not check a block's
CRC64 (strict, its default, refuses ``x-ms-content-crc64``; ``--loose`` ignores it), so these
uploads send each block's MD5 (``AIMODELS_UPLOAD_BLOCK_CHECK=md5``), and one test shows what the
default CRC64 gets there: a clear error naming that setting."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from azurite import AzuriteBlob, azurite_blob  # noqa: F401  (the fixture)
from upload_support import (
    KIB,
    MIB,
    SMALL,
    CountingProxy,
    MovableClock,
    apply_in_child,
    hook_on_block,
    kill_after,
    random_file,
    register,
    run_cli,
    serve,
    stored,
    unlock,
    upload,
    write_stack,
)

from aimodels.apply.upload_blocks import UploadSettings
from aimodels.emulator.app import Emulator
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import start_in_thread
from aimodels.errors import RemoteError
from aimodels.weights.hashing import hash_local

SEED = random.randrange(1 << 30)
#: What Azurite checks per block: the MD5.
MD5 = replace(SMALL, block_check="md5")


@dataclass
class AzuriteStore:
    """The emulator's registry (``url``) over Azurite, with the proxy counting blob calls."""

    url: str
    proxy: CountingProxy
    clock: MovableClock


@pytest.fixture
def azure_store(azurite_blob: AzuriteBlob) -> Iterator[AzuriteStore]:  # noqa: F811
    origin = azurite_blob.account_url.rsplit("/", 1)[0]
    proxy = CountingProxy(origin)
    proxied = serve(proxy)
    clock = MovableClock()
    config = EmulatorConfig(external_blob=(f"{proxied.url}/{azurite_blob.account_name}",
                                           azurite_blob.account_name, azurite_blob.account_key))
    running = start_in_thread(emulator=Emulator(config, clock=clock))
    try:
        yield AzuriteStore(running.url, proxy, clock)
    finally:
        running.stop()
        proxied.stop()


def test_apply_killed_mid_upload_resumes_on_azurite(azure_store: AzuriteStore, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    stack = write_stack(tmp_path / "stack", "llama", "./weights/llama.safetensors")
    sha = random_file(stack / "weights" / "llama.safetensors", 64 * MIB)
    moment = random.Random(SEED).randrange(16, 240)

    kill_after(apply_in_child(azure_store.url, stack, AIMODELS_UPLOAD_BLOCK_CHECK="md5"),
               azure_store.proxy, moment)
    unlock(stack, capsys)
    staged = len(azure_store.proxy.blocks)
    monkeypatch.setenv("AIMODELS_UPLOAD_BLOCK_SIZE", "256KiB")
    monkeypatch.setenv("AIMODELS_UPLOAD_BLOCK_CHECK", "md5")
    code, out, err = run_cli(["--endpoint", azure_store.url, "apply", "--yes", "-f",
                              str(stack)], capsys)

    assert code == 0, f"seed {SEED}: {out}{err}"
    assert "each block carries its MD5 (Content-MD5), checked by the data store" in out
    assert f"{staged * 256 * KIB / 1e6:.1f} MB of it from an earlier run" in out
    assert azure_store.proxy.sent_twice() == [] and len(azure_store.proxy.blocks) == 256
    code, out, _ = run_cli(["--endpoint", azure_store.url, "models", "show", "llama",
                            "--output", "json", "-f", str(stack)], capsys)
    assert code == 0 and f'"sha256": "{sha}"' in out


def test_a_sas_expiring_mid_upload_is_replaced_on_azurite(azure_store: AzuriteStore,
                                                          tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 4 * MIB)
    lifetime = 30 * 60  # what the registry grants for this size
    azure_store.clock.offset = -lifetime + 2.0  # the first SAS ends 2 s from now, real time
    expires = time.time() + 2.0

    def outlive_the_sas(request: Any) -> None:
        if azure_store.clock.offset:
            azure_store.clock.offset = 0.0  # SAS granted from now on are fresh
            time.sleep(max(0.0, expires - time.time()) + 1.1)  # Azurite counts whole seconds

    settings = UploadSettings(block_size=256 * KIB, concurrency=1, progress_every=0.0,
                              block_check="md5",
                              request_hook=hook_on_block(outlive_the_sas, "00000004"))
    done = upload(azure_store.url, source, sha, tmp_path / ".aimodels", settings)

    proxy = azure_store.proxy
    assert proxy.count("PUT", "block", 403) == 1 and proxy.sent_twice() == []
    assert len(proxy.blocks) == 16
    model = register(azure_store.url, done)
    assert hashlib.sha256(stored(azure_store.url, model["blob_prefix"])["model.safetensors"]
                          ).hexdigest() == sha


def test_a_corrupted_block_is_sent_again_and_a_folder_keeps_its_paths_on_azurite(
        azure_store: AzuriteStore, tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    random_file(folder / "model-00001.safetensors", 2 * MIB)
    random_file(folder / "nested" / "model-00002.safetensors", 1 * MIB + 5)
    (folder / "config.json").write_text("{}")
    planned = hash_local(folder)
    flipped: list[bool] = []

    def flip(request: Any) -> None:
        if not flipped and "model-00001" in request.http_request.url:
            body = bytearray(request.http_request.data)
            body[7] ^= 0x01
            request.http_request.data = bytes(body)
            flipped.append(True)

    settings = UploadSettings(block_size=256 * KIB, concurrency=2, progress_every=0.0,
                              block_check="md5",
                              request_hook=hook_on_block(flip, "00000002"))
    done = upload(azure_store.url, folder, planned.sha256, tmp_path / ".aimodels", settings)

    assert azure_store.proxy.count("PUT", "block", 400) == 1 and flipped
    model = register(azure_store.url, done)
    blobs = stored(azure_store.url, model["blob_prefix"])
    assert sorted(blobs) == ["config.json", "model-00001.safetensors",
                             "nested/model-00002.safetensors"]
    assert hash_local(folder).files == tuple(
        (name, len(data), hashlib.sha256(data).hexdigest()) for name, data in sorted(
            blobs.items()))


def test_a_block_corrupted_every_time_is_refused_on_azurite(azure_store: AzuriteStore,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 1 * MIB)

    def flip(request: Any) -> None:
        body = bytearray(request.http_request.data)
        body[0] ^= 0x01
        request.http_request.data = bytes(body)

    settings = UploadSettings(block_size=256 * KIB, concurrency=1, progress_every=0.0,
                              block_check="md5",
                              request_hook=hook_on_block(flip, "00000001"))
    with pytest.raises(RemoteError, match="Run the same command to resume"):
        upload(azure_store.url, source, sha, tmp_path / ".aimodels", settings)
    assert azure_store.proxy.count("PUT", "block", 400) == 4
    assert azure_store.proxy.count("PUT", "blocklist") == 0


def test_registered_content_is_copied_inside_azurite(azure_store: AzuriteStore,
                                                     tmp_path: Path) -> None:
    first = tmp_path / "a.gguf"
    sha = random_file(first, 2 * MIB, head=b"GGUF\x03\x00\x00\x00")
    register(azure_store.url, upload(azure_store.url, first, sha, tmp_path / ".aimodels", MD5))
    sent = len(azure_store.proxy.blocks)

    done = upload(azure_store.url, first, sha, tmp_path / ".aimodels", MD5, model="copy")

    assert done.how == "copied" and len(azure_store.proxy.blocks) == sent
    model = register(azure_store.url, done, name="copy")
    assert hashlib.sha256(stored(azure_store.url, model["blob_prefix"])["a.gguf"]
                          ).hexdigest() == sha


def test_the_default_crc64_on_azurite_fails_clearly_and_names_the_md5_setting(
        azure_store: AzuriteStore, tmp_path: Path) -> None:
    source = tmp_path / "model.safetensors"
    sha = random_file(source, 256 * KIB)  # one block

    with pytest.raises(RemoteError) as failed:
        upload(azure_store.url, source, sha, tmp_path / ".aimodels")

    assert azure_store.proxy.count("PUT", "block", 500) == 1  # refused once, not retried
    assert failed.value.code == "FeatureNotSupported"
    assert "does not take the blocks' CRC64" in failed.value.hint
    assert "AIMODELS_UPLOAD_BLOCK_CHECK=md5" in failed.value.hint
    assert "sig=" not in failed.value.message + failed.value.hint
    assert azure_store.proxy.count("PUT", "blocklist") == 0 and not azure_store.proxy.blocks
