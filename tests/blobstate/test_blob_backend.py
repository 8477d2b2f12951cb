"""The azureblob backend against Azurite: conditional writes (no lost update), snapshots as
history, the lease as the lock, and the journal and upload records beside the state blob."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from blobstate_support import STATE_BLOB, Team

from aimodels.apply.upload_record import UploadRecord, UploadRecords
from aimodels.errors import EXIT_CONFLICT, AimodelsError, PreconditionError
from aimodels.service.state import restore_state
from aimodels.state.document import encode_state
from aimodels.state.values import ResourceState, StackIdentity

STACK = StackIdentity("quickstart", "local", "00000000-0000-0000-0000-000000000000",
                      "rg-quickstart")


def entry(name: str) -> ResourceState:
    return ResourceState(f"ModelSource/{name}", f"/ids/{name}")


def test_the_first_write_creates_the_blob_and_every_later_one_snapshots_the_last(
        team: Team) -> None:
    backend = team.backend()
    assert not backend.exists()
    first = backend.write(replace(backend.read(), stack=STACK).with_resource(entry("a")))
    second = backend.write(first.with_resource(entry("b")))
    third = backend.write(second.without("ModelSource/a"))

    assert team.state()["serial"] == third.serial == 3
    assert team.blobs()[STATE_BLOB] == encode_state(third)  # the local file's exact bytes
    history = backend.history()
    assert [(v.serial, v.resources, v.lineage) for v in history] == \
        [(1, 1, first.lineage), (2, 2, first.lineage)]
    assert backend.read_version(history[0].id) == first
    assert backend.read_version(history[1].id) == second


def test_an_etag_race_on_the_state_blob_loses_no_update(team: Team) -> None:
    one, other = team.backend(), team.backend()  # two machines
    base = one.write(one.read().with_resource(entry("base")))
    mine, theirs = one.read(), other.read()
    assert mine == theirs == base

    won = one.write(mine.with_resource(entry("mine")))
    with pytest.raises(PreconditionError) as lost:
        other.write(theirs.with_resource(entry("theirs")))

    assert lost.value.exit_code == EXIT_CONFLICT
    assert "changed since it was read" in lost.value.message and \
        f"serial {won.serial}" in lost.value.message
    kept = team.backend().read()
    assert kept == won and kept.get("ModelSource/theirs") is None
    assert [v.serial for v in one.history()] == [1]  # the refused write kept nothing either


def test_two_first_writes_race_and_only_one_creates_the_blob(team: Team) -> None:
    one, other = team.backend(), team.backend()
    a, b = one.read(), other.read()
    one.write(a.with_resource(entry("a")))
    with pytest.raises(PreconditionError):
        other.write(b.with_resource(entry("b")))
    assert team.state()["lineage"] == a.lineage


def test_a_second_writer_is_refused_naming_the_holder_until_it_releases(team: Team) -> None:
    holder = team.backend().lock("aimodels apply")
    with pytest.raises(PreconditionError) as refused:
        team.backend().lock("aimodels destroy")
    assert refused.value.exit_code == EXIT_CONFLICT
    info = holder.info
    assert f"State is locked by {info.owner}@{info.host} pid {info.pid} (`aimodels apply`)" \
        in refused.value.message and info.id in refused.value.message
    assert f"force-unlock {info.id}" in refused.value.hint
    assert "at most 15 s after its last renewal" in refused.value.hint
    assert team.backend().read_lock() == info

    holder.release()
    assert team.backend().read_lock() is None
    again = team.backend().lock("aimodels destroy")
    assert again.previous is None  # released properly: nobody to report
    again.release()


def test_force_unlock_needs_the_lock_id_and_a_lost_lock_writes_nothing(team: Team) -> None:
    first = team.backend()
    state = first.write(first.read().with_resource(entry("a")))
    held = first.lock("aimodels apply")

    with pytest.raises(PreconditionError) as refused:
        team.backend().force_unlock("not-the-id")
    assert "is not the lock held" in refused.value.message
    assert team.backend().force_unlock(held.info.id) == held.info

    second = team.backend()
    taken = second.lock("aimodels apply")
    assert taken.previous == held.info  # it never released: said to the next holder
    newer = second.write(second.read().with_resource(entry("b")))
    with pytest.raises(PreconditionError) as lost:
        first.write(state.with_resource(entry("c")))
    assert "was lost" in lost.value.message
    assert team.backend().read() == newer
    taken.release()
    held.release()  # a no-op: the lease is not its own any more
    assert team.backend().read_lock() is None


def test_the_lease_is_renewed_while_the_holder_lives(team: Team) -> None:
    holder = team.backend().lock("aimodels apply")
    time.sleep(17)  # longer than the 15 s lease
    with pytest.raises(PreconditionError):
        team.backend().lock("aimodels apply")
    holder.release()


def test_a_killed_holder_is_stale_and_its_lease_runs_out_by_itself(team: Team) -> None:
    with subprocess.Popen(
            [sys.executable, "-c", _HOLD.format(url=team.account_url,
                                                container=team.container,
                                                connection=team.connection_string)],
            stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None and child.stdout.readline().startswith("held")
        child.kill()
        child.wait(timeout=10)
    killed_at = time.monotonic()
    with pytest.raises(PreconditionError) as refused:
        team.backend().lock("aimodels apply")
    assert "that process is gone from this host, so the lock is stale" in \
        refused.value.message
    while True:
        try:
            lock = team.backend().lock("aimodels apply")
            break
        except PreconditionError:
            assert time.monotonic() - killed_at < 17, "the lease did not run out"
            time.sleep(0.5)
    assert lock.previous is not None and lock.previous.pid == child.pid
    lock.release()


_HOLD = """
import time
from aimodels.model.desired import StateBackendConfig
from aimodels.state.blob import BlobBackend
config = StateBackendConfig("azureblob", account_url="{url}", container="{container}",
                            blob="team.state.json", lease_seconds=15)
lock = BlobBackend.open(config, {{"AZURE_STORAGE_CONNECTION_STRING": "{connection}"}}).lock(
    "aimodels apply")
print("held", flush=True)
time.sleep(60)
"""


def test_the_journal_lives_beside_the_state_blob(team: Team) -> None:
    one = team.backend().journal()
    intent = one.record_intent("ModelSource/a", "create", {"url": "/ids/a"})
    one.record_intent("ModelSource/b", "delete")
    assert one.where.startswith("journal blob ") and one.path is None

    elsewhere = team.backend().journal()  # another machine, another folder
    assert [e.address for e in elsewhere.pending()] == ["ModelSource/a", "ModelSource/b"]
    elsewhere.record_done(intent)
    assert [e.address for e in one.pending()] == ["ModelSource/b"]
    assert f"{STATE_BLOB}.journal" in team.blobs()
    one.clear()
    assert elsewhere.pending() == [] and f"{STATE_BLOB}.journal" not in team.blobs()


def test_upload_records_live_beside_the_state_blob(team: Team) -> None:
    records = team.backend().upload_records()
    records.write("llama.json", b"{}")
    assert team.backend().upload_records().names() == ["llama.json"]
    assert team.blobs()[f"{STATE_BLOB}.uploads/llama.json"] == b"{}"
    records.remove("llama.json")
    assert team.backend().upload_records().read("llama.json") is None


def test_restore_writes_the_snapshot_as_a_new_version_and_keeps_the_current(
        team: Team) -> None:
    backend = team.backend()
    first = backend.write(replace(backend.read(), stack=STACK).with_resource(entry("a")))
    second = backend.write(first.with_resource(entry("b")))
    [snapshot] = backend.history()

    restored = restore_state(backend, snapshot.id, second, STACK)

    assert restored.serial == 3 and restored.addresses == ["ModelSource/a"]
    assert team.backend().read() == restored
    assert [v.serial for v in backend.history()] == [1, 2]  # serial 2 is kept too
    with pytest.raises(AimodelsError, match="has no snapshot"):
        backend.read_version("2020-01-01T00:00:00.0000000Z")


def test_an_upload_record_saved_on_one_machine_resumes_on_another(team: Team,
                                                                  tmp_path: Path) -> None:
    listing = (("llama.safetensors", 1024),)
    record = UploadRecord("llama", "/home/alice/repo/weights/llama.safetensors", "ab" * 32,
                          1024, listing, "upload-1", "uploads", "llama/upload-1/", 256)
    UploadRecords(tmp_path / "alice" / ".aimodels", team.backend().upload_records()).save(record)

    found = UploadRecords(tmp_path / "runner" / ".aimodels",
                          team.backend().upload_records()).load("llama")
    assert found == record
    # Another checkout of the same bytes resumes it; other bytes, or a URL elsewhere, do not.
    assert found.describes("/runner/work/repo/weights/llama.safetensors", "ab" * 32, 1024,
                           listing)
    assert not found.describes("/runner/work/repo/weights/llama.safetensors", "cd" * 32,
                               1024, listing)
    by_url = replace(record, source="https://example.com/w.safetensors", sha256=None)
    assert not by_url.describes("https://example.com/other.safetensors", None, 1024, listing)
    assert not (tmp_path / "runner" / ".aimodels" / "uploads").exists()
