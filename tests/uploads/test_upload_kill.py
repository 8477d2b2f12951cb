"""``aimodels apply`` killed with SIGKILL at random moments of a 64 MiB upload (256 KiB
blocks): the next apply finds the resumable record, asks the service what it holds, and sends
only the rest. The counting proxy in front of the emulator sees every block accepted exactly
once, and the registered content is the file's."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import ContainerClient
from upload_support import (
    MIB,
    Store,
    apply_in_child,
    kill_after,
    random_file,
    run_cli,
    unlock,
    write_stack,
)

from aimodels.apply.upload_record import UploadRecords

BLOCKS = 256
KILLS = 2
SEED = random.randrange(1 << 30)


def test_apply_killed_twice_mid_upload_resumes_without_sending_a_block_twice(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stack = write_stack(tmp_path / "stack", "llama", "./weights/llama.safetensors")
    sha = random_file(stack / "weights" / "llama.safetensors", 64 * MIB)
    rng = random.Random(SEED)
    moments = sorted(rng.sample(range(16, BLOCKS - 16), KILLS))

    for moment in moments:
        kill_after(apply_in_child(store.url, stack), store.proxy, moment)
        record = UploadRecords(stack / ".aimodels").load("llama")
        assert record is not None and record.sha256 == sha, f"seed {SEED}"
        unlock(stack, capsys)
    staged_before = len(store.proxy.blocks)
    monkeypatch.setenv("AIMODELS_UPLOAD_BLOCK_SIZE", "256KiB")
    code, out, err = run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)], capsys)

    assert code == 0, f"seed {SEED}: {out}{err}"
    assert "resuming upload" in out
    resumed = f"{staged_before * 256 * 1024 / 1e6:.1f} MB of it from an earlier run"
    assert resumed in out, (resumed, out)
    assert store.proxy.sent_twice() == [], f"seed {SEED}, kills at {moments}"
    assert len(store.proxy.blocks) == BLOCKS
    with httpx.Client(base_url=store.url, headers={"Authorization": "Bearer t"}) as api:
        model = api.get("/custom-models/llama").json()
        sas = api.get("/datastore/list-sas").json()["sas_uri"]
    assert model["sha256"] == sha and model["size_bytes"] == 64 * MIB
    with ContainerClient.from_container_url(sas) as container:
        content = container.download_blob(model["blob_prefix"] + "llama.safetensors").readall()
    assert hashlib.sha256(content).hexdigest() == sha
    assert UploadRecords(stack / ".aimodels").load("llama") is None
    assert run_cli(["--endpoint", store.url, "plan", "--detailed-exitcode", "-f", str(stack)],
               capsys)[0] == 0
