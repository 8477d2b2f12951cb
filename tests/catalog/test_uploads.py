"""`aimodels uploads list|show|prune`: blobs of the data store (listed with azure-storage-blob
through the registry's list SAS), grouped per upload, registered or orphaned, with sizes; one
upload shown by id, folder or blob; orphans deleted after a confirmation, and a registered
model's blobs never."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient
from read_harness import Azure, run, write_stack

from aimodels.blob.listing import StoredBlob, list_blobs
from aimodels.errors import EXIT_USAGE, AuthError
from aimodels.service.reading import ReadTarget
from aimodels.service.uploads import group_uploads, upload_prefix
from aimodels.service.uploads_prune import prune_uploads, select_prune


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
    assert "The data store refused the registry's SAS: 403" in raised.value.message
    assert signature[4:] not in raised.value.message


@pytest.mark.parametrize(("model_prefix", "registered"), [
    pytest.param("m/1/", True, id="same-folder"),
    pytest.param("m/", True, id="model-folder-contains-it"),
    pytest.param("m/1/sub/", True, id="model-folder-inside-it"),
    pytest.param("m/2/", False, id="another-folder"),
    pytest.param("", False, id="no-prefix"),
])
def test_an_upload_is_registered_whenever_a_model_folder_overlaps_it(model_prefix: str,
                                                                      registered: bool) -> None:
    blobs = [StoredBlob("m/1/sub/w", 3, "2026-01-01T00:00:00Z", {})]
    (upload,) = group_uploads(blobs, [{"name": "m", "version": "1", "blob_prefix":
                                       model_prefix}], "uploads")
    assert upload.orphaned is not registered


def test_show_an_upload_by_id_folder_or_blob(registry: Azure, tmp_path: Path) -> None:
    digest = registry.custom_model("llama", "1.0", b"w" * 1200)
    grant = registry.http.get("/custom-models/llama").json()
    folder = write_stack(tmp_path, registry)
    upload_id = grant["upload_id"]
    text = run(registry, folder, "uploads", "show", upload_id)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith(f"Upload: uploads/{grant['blob_prefix']}\n")
    assert f"Upload id:      {upload_id}" in text.stdout
    assert "Registered as:  llama:1.0" in text.stdout
    assert "model.safetensors" in text.stdout and digest in text.stdout
    for ref in (grant["blob_prefix"], f"uploads/{grant['blob_prefix']}".rstrip("/"),
                grant["blob_prefix"] + "model.safetensors"):
        shown = json.loads(run(registry, folder, "uploads", "show", ref, "-o", "json").stdout)
        assert (shown["uploadId"], shown["registeredAs"], shown["sizeBytes"]) == \
            (upload_id, ["llama:1.0"], 1200)
    orphan = registry.upload("gone", {"w.gguf": b"x"})
    lone = run(registry, folder, "uploads", "show", orphan["upload_id"])
    assert "no (orphaned): `aimodels uploads prune` deletes it" in lone.stdout
    missing = run(registry, folder, "uploads", "show", "nope")
    assert missing.exit_code == 1
    assert "no upload nope in the data store; see `aimodels uploads list`" in missing.stderr


def _blob_names(azure: Azure) -> set[str]:
    grant = azure.http.get("/datastore/list-sas").json()
    with ContainerClient.from_container_url(grant["sas_uri"]) as container:
        return {b.name for b in container.list_blobs()}


def test_prune_deletes_orphans_and_never_a_registered_models_blobs(registry: Azure,
                                                                  tmp_path: Path) -> None:
    kept = registry.upload("llama", {"model.safetensors": b"a" * 100})
    registry.register(kept, "llama", "1.0")
    never = registry.upload("abandoned", {"model.safetensors": b"c" * 20})
    dropped = registry.upload("dropped", {"model.safetensors": b"d" * 30})
    registry.register(dropped, "dropped", "1.0")
    registry.http.delete("/custom-models/dropped", params={"keep_weights": "true"})
    folder = write_stack(tmp_path, registry)
    result = run(registry, folder, "uploads", "prune", "--min-age", "0", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "2 orphaned uploads will be deleted (50 bytes):" in result.stdout
    assert f"uploads/{never['blob_prefix']}" in result.stdout
    assert result.stdout.rstrip().endswith("Deleted 2 uploads (50 bytes).")
    assert "sig=" not in result.output
    assert _blob_names(registry) == {kept["blob_prefix"] + "model.safetensors"}
    model = registry.http.get("/custom-models/llama").json()
    assert model["status"] == "Ready"
    again = run(registry, folder, "uploads", "prune", "--min-age", "0", "--yes")
    assert again.stdout.startswith("Nothing to prune")


def test_prune_asks_and_refuses_to_guess_without_a_terminal(registry: Azure,
                                                            tmp_path: Path) -> None:
    orphan = registry.upload("abandoned", {"model.safetensors": b"c" * 20})
    result = run(registry, write_stack(tmp_path, registry), "uploads", "prune", "--min-age",
                 "0")
    assert result.exit_code == EXIT_USAGE
    assert "1 orphaned upload will be deleted" in result.stdout
    assert "`uploads prune` asks for confirmation, and stdin is not a terminal" in result.stderr
    assert "Pass --yes" in result.stderr
    assert _blob_names(registry) == {orphan["blob_prefix"] + "model.safetensors"}


def test_prune_spares_fresh_orphans_by_default(registry: Azure, tmp_path: Path) -> None:
    registry.upload("just-now", {"model.safetensors": b"c" * 20})
    result = run(registry, write_stack(tmp_path, registry), "uploads", "prune")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Nothing to prune: no orphaned upload is old enough")
    assert "less than --min-age 1 h (an apply may be registering it)" in result.stdout
    assert "--min-age 0 includes them." in result.stdout
    assert len(_blob_names(registry)) == 1
    bad = run(registry, write_stack(tmp_path, registry), "uploads", "prune", "--min-age", "soon")
    assert bad.exit_code == EXIT_USAGE and "--min-age 'soon' is not an age" in bad.stderr


def test_an_upload_registered_after_the_listing_is_kept(registry: Azure,
                                                        tmp_path: Path) -> None:
    late = registry.upload("late", {"model.safetensors": b"l" * 10})
    rewritten = registry.upload("rewritten", {"model.safetensors": b"r" * 10})
    gone = registry.upload("gone", {"model.safetensors": b"g" * 10})
    target = ReadTarget((str(write_stack(tmp_path, registry)),), registry.url)
    selection = select_prune(target, min_age=0)
    assert len(selection.doomed) == 3
    # between the listing (and the question) and the delete: one is registered, one rewritten
    registry.register(late, "late", "1.0")
    grant = registry.http.get("/datastore/list-sas").json()
    writer = registry.http.post("/datastore/upload/initialize", json={
        "model_name": "rewritten", "file_size": 5, "format": "safetensors"}).json()
    with ContainerClient.from_container_url(writer["container_sas_uri"]) as container:
        container.upload_blob(rewritten["blob_prefix"] + "model.safetensors", b"new!!",
                              overwrite=True)
    report = prune_uploads(target, selection)
    assert [u.prefix for u in report.deleted] == [gone["blob_prefix"]]
    reasons = {k.upload.prefix: k.reason for k in report.kept}
    assert reasons == {
        late["blob_prefix"]: "kept: registered since the listing, as late:1.0",
        rewritten["blob_prefix"]: f"kept: {rewritten['blob_prefix']}model.safetensors was "
                                  "written since the listing"}
    assert grant and _blob_names(registry) == {late["blob_prefix"] + "model.safetensors",
                                               rewritten["blob_prefix"] + "model.safetensors"}


def test_the_registry_gives_a_delete_sas_only_when_asked(registry: Azure) -> None:
    blob = registry.upload("x", {"w": b"1"})["blob_prefix"] + "w"
    plain = registry.http.get("/datastore/list-sas").json()["sas_uri"]
    with ContainerClient.from_container_url(plain) as container, \
            pytest.raises(HttpResponseError) as refused:
        container.delete_blob(blob)
    assert refused.value.status_code == 403
    able = registry.http.get("/datastore/list-sas", params={"permissions": "ldr"}).json()
    assert "sp=rdl" in able["sas_uri"]
    with ContainerClient.from_container_url(able["sas_uri"]) as container:
        container.delete_blob(blob)
    bad = registry.http.get("/datastore/list-sas", params={"permissions": "rwl"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidQueryParameter"


def _in_terminal(azure: Azure, folder: Path, answer: bytes, *args: str) -> tuple[int, str]:
    """``aimodels ARGS -f folder`` on a pseudo-terminal, typing ``answer`` at the prompt."""
    main, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    child = subprocess.Popen([sys.executable, "-m", "aimodels", *args, "-f", str(folder)],
                             stdin=secondary, stdout=secondary, stderr=secondary,
                             env={**env, "AIMODELS_ENDPOINT": azure.url, "TERM": "dumb",
                                  "NO_COLOR": "1"})
    os.close(secondary)
    shown = b""
    try:
        while select.select([main], [], [], 30)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if answer and b"Only 'yes' will be accepted" in shown:
                os.write(main, answer + b"\n")
                answer = b""
        return child.wait(timeout=30), shown.decode(errors="replace")
    finally:
        os.close(main)


def test_prune_on_a_terminal_deletes_only_after_yes(registry: Azure, tmp_path: Path) -> None:
    orphan = registry.upload("abandoned", {"model.safetensors": b"c" * 20})
    folder = write_stack(tmp_path, registry)
    code, shown = _in_terminal(registry, folder, b"no", "uploads", "prune", "--min-age", "0")
    assert code == 1 and "Prune cancelled; nothing was deleted" in shown
    assert _blob_names(registry) == {orphan["blob_prefix"] + "model.safetensors"}
    code, shown = _in_terminal(registry, folder, b"yes", "uploads", "prune", "--min-age", "0")
    assert code == 0, shown
    assert "Delete these uploads? Only 'yes' will be accepted" in shown
    assert "Deleted 1 upload (20 bytes)." in shown
    assert _blob_names(registry) == set()
