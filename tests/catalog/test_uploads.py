"""`aimodels uploads list`: blobs of the data store (listed with azure-storage-blob through the
registry's list SAS), grouped per upload, registered or orphaned, with sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from read_harness import Azure, run, write_stack

from aimodels.errors import AuthError
from aimodels.service.uploads import StoredBlob, group_uploads, list_blobs, upload_prefix


def test_registered_and_orphaned_uploads_with_sizes(registry: Azure, tmp_path: Path) -> None:
    kept = registry.upload("llama", {"model.safetensors": b"a" * 1500})
    registry.register(kept, "llama", "1.0")
    folder_upload = registry.upload("mistral", {"config.json": b"{}", "weights.gguf": b"b" * 98})
    registry.register(folder_upload, "mistral", "2.0")
    never = registry.upload("abandoned", {"model.safetensors": b"c" * 20})
    dropped = registry.upload("dropped", {"model.safetensors": b"d" * 30})
    registry.register(dropped, "dropped", "1.0")
    gone = registry.http.delete("/custom-models/dropped", params={"keep_weights": "true"})
    assert gone.status_code == 200

    result = run(registry, write_stack(tmp_path, registry), "uploads", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PATH", "FILES", "SIZE", "UPLOADED", "REGISTERED"]
    rows = {line.split()[0]: line for line in lines[2:] if line.startswith("uploads/")}
    assert set(rows) == {f"uploads/{g['blob_prefix']}"
                         for g in (kept, folder_upload, never, dropped)}
    assert rows[f"uploads/{kept['blob_prefix']}"].split()[1:4] == ["1", "1.5", "kB"]
    assert rows[f"uploads/{kept['blob_prefix']}"].endswith("llama:1.0")
    assert rows[f"uploads/{folder_upload['blob_prefix']}"].split()[1:4] == ["2", "100", "bytes"]
    assert rows[f"uploads/{never['blob_prefix']}"].endswith("no (orphaned)")
    assert rows[f"uploads/{dropped['blob_prefix']}"].endswith("no (orphaned)")
    assert "4 uploads, 1.6 kB (2 orphaned, 50 bytes)" in result.stdout
    assert "Orphaned uploads hold weights no custom model uses" in result.stdout
    assert "sig=" not in result.output


def test_json_lists_each_upload_with_its_blobs(registry: Azure, tmp_path: Path) -> None:
    grant = registry.upload("phi", {"a.safetensors": b"12345", "b.safetensors": b"678"})
    registry.register(grant, "phi", "1.0")
    orphan = registry.upload("phi", {"a.safetensors": b"x"})
    uploads = json.loads(run(registry, write_stack(tmp_path, registry), "uploads", "list", "-o",
                             "json").stdout)
    by_prefix = {u["prefix"]: u for u in uploads}
    registered = by_prefix[grant["blob_prefix"]]
    assert (registered["files"], registered["sizeBytes"], registered["registered"],
            registered["registeredAs"]) == (2, 8, True, ["phi:1.0"])
    assert [b["name"] for b in registered["blobs"]] == [grant["blob_prefix"] + "a.safetensors",
                                                       grant["blob_prefix"] + "b.safetensors"]
    assert registered["uploadedAt"].endswith("Z") and registered["path"].startswith("uploads/")
    assert by_prefix[orphan["blob_prefix"]]["registered"] is False


def test_an_empty_data_store(registry: Azure, tmp_path: Path) -> None:
    result = run(registry, write_stack(tmp_path, registry), "uploads", "list")
    assert (result.exit_code, result.stdout) == (0, "No uploads in the data store.\n")


@pytest.mark.parametrize(("name", "prefix"), [
    ("llama/0a1b/model.safetensors", "llama/0a1b/"),
    ("llama/0a1b/sub/dir/shard-1.safetensors", "llama/0a1b/"),
    ("loose/file.bin", "loose/"),
    ("top.bin", "top.bin"),
])
def test_blobs_group_by_upload_folder(name: str, prefix: str) -> None:
    assert upload_prefix(name) == prefix


def test_a_model_registered_twice_from_one_prefix_lists_both() -> None:
    blobs = [StoredBlob("m/1/w", 3, "2026-01-01T00:00:00Z", {})]
    models = [{"name": "m", "version": "2", "blob_prefix": "m/1/"},
              {"name": "m", "version": "1", "blob_prefix": "m/1/"}]
    (upload,) = group_uploads(blobs, models, "uploads")
    assert (upload.path, upload.registered_as, upload.size_bytes) == \
        ("uploads/m/1/", ("m:1", "m:2"), 3)


def test_a_refused_list_sas_is_an_auth_error_without_the_signature(registry: Azure) -> None:
    grant = registry.http.get("/datastore/list-sas").json()
    signature = grant["sas_uri"].split("sig=")[1].split("&")[0]
    tampered = grant["sas_uri"].replace("sig=" + signature, "sig=AAAA" + signature[4:])
    with pytest.raises(AuthError) as raised:
        list_blobs(tampered)
    assert "The data store refused the registry's list SAS: 403" in raised.value.message
    assert signature[4:] not in raised.value.message
