"""``aimodels apply`` killed with SIGKILL at random moments of a 64 MiB upload (256 KiB
blocks): the next apply finds the resumable record, asks the service what it holds, and sends
only the rest. The counting proxy in front of the emulator sees every block accepted exactly
once, and the registered content is the file's."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import ContainerClient

from aimodels.apply.upload_record import UploadRecords
from aimodels.cli.main import main
from conftest import Store
from upload_support import MIB, ROOT, CountingProxy, child_env, random_file, write_stack

BLOCKS = 256
KILLS = 2
SEED = random.randrange(1 << 30)


def apply_in_child(url: str, stack: Path) -> subprocess.Popen[bytes]:
    env = child_env(AIMODELS_UPLOAD_BLOCK_SIZE="256KiB", AIMODELS_UPLOAD_CONCURRENCY="4")
    return subprocess.Popen([sys.executable, "-m", "aimodels", "--endpoint", url, "apply",
                             "--yes", "-f", str(stack)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(child: subprocess.Popen[bytes], proxy: CountingProxy, blocks: int) -> None:
    """SIGKILL ``child`` once the service has accepted ``blocks`` blocks in all."""
    deadline = time.monotonic() + 60
    while len(proxy.blocks) < blocks:
        assert child.poll() is None, child.communicate()[1].decode()
        assert time.monotonic() < deadline, "the upload did not progress"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def unlock(stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = json.loads((stack / ".aimodels" / "state.lock").read_text())
    assert run(["force-unlock", lock["id"], "-f", str(stack)], capsys)[0] == 0


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
    code, out, err = run(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)], capsys)

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
    assert run(["--endpoint", store.url, "plan", "--detailed-exitcode", "-f", str(stack)],
               capsys)[0] == 0
