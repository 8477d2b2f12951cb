"""Uploads through ``aimodels apply`` and ``destroy``: identical content is sent once and
copied by the service for the second model, ``deletePolicy: KeepWeights`` leaves the blobs
(orphaned in ``uploads list``), and a URL source is copied by the service from the URL."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from upload_support import (
    CUSTOM_MODEL,
    KIB,
    MIB,
    Store,
    random_file,
    register,
    run_cli,
    stored,
    upload,
    write_stack,
)

from aimodels.apply.events import ApplyResult
from aimodels.apply.executor import apply_plan
from aimodels.apply.state_store import StateStore
from aimodels.apply.upload_record import UploadRecords
from aimodels.live.reader import read_live
from aimodels.manifest import load_manifests
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredState
from aimodels.plan.planner import make_plan
from aimodels.plan.values import Plan
from aimodels.providers.registry import default_registry
from aimodels.service.inputs import resolve_inputs
from aimodels.service.planning import prior_resources
from aimodels.state.local import read_state
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig


@pytest.fixture
def files_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain http server on loopback serving ``tmp_path / "www"`` (a model host)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


def api(store: Store) -> httpx.Client:
    return httpx.Client(base_url=store.url, headers={"Authorization": "Bearer t"})


def test_identical_weights_of_two_models_are_sent_once(store: Store, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    stack = write_stack(tmp_path, "llama", "./a/model.safetensors")
    (stack / "twin.yaml").write_text(CUSTOM_MODEL.format(
        name="llama-twin", path="./b/model.safetensors", format="safetensors", policy="Delete"))
    sha = random_file(stack / "a" / "model.safetensors", 4 * MIB)
    (stack / "b").mkdir()
    (stack / "b" / "model.safetensors").write_bytes((stack / "a" / "model.safetensors")
                                                    .read_bytes())
    monkeypatch.setenv("AIMODELS_UPLOAD_BLOCK_SIZE", "256KiB")

    code, out, err = run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)],
                             capsys)

    assert code == 0, out + err
    assert len(store.proxy.blocks) == 16 and store.proxy.sent_twice() == []
    assert "the data store copies them, nothing is uploaded" in out
    # the per-block check is said, never chosen silently: CRC64 unless told otherwise
    assert "each block carries its CRC64 (x-ms-content-crc64), checked by the data store" in out
    with api(store) as session:
        models = session.get("/custom-models").json()["value"]
    assert sorted(m["name"] for m in models) == ["llama", "llama-twin"]
    assert {m["sha256"] for m in models} == {sha}
    assert len({m["blob_prefix"] for m in models}) == 2  # each its own copy
    assert UploadRecords(stack / ".aimodels").all() == []


def test_destroy_with_keep_weights_unregisters_and_keeps_the_blobs(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, "llama", "./model.safetensors", policy="KeepWeights")
    sha = random_file(stack / "model.safetensors", 300 * KIB)
    assert run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)], capsys)[0] == 0
    with api(store) as session:
        prefix = session.get("/custom-models/llama").json()["blob_prefix"]

    code, out, err = run_cli(["--endpoint", store.url, "destroy", "--yes", "-f", str(stack)],
                             capsys)

    assert code == 0, out + err
    with api(store) as session:
        assert session.get("/custom-models/llama").status_code == 404
    kept = stored(store.url, prefix)
    assert hashlib.sha256(kept["model.safetensors"]).hexdigest() == sha
    code, out, _ = run_cli(["--endpoint", store.url, "uploads", "list", "-f", str(stack)],
                           capsys)
    assert code == 0 and prefix in out and "orphaned" in out


def test_destroy_with_delete_removes_the_blobs(store: Store, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, "llama", "./model.safetensors", policy="Delete")
    random_file(stack / "model.safetensors", 300 * KIB)
    assert run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)], capsys)[0] == 0
    with api(store) as session:
        prefix = session.get("/custom-models/llama").json()["blob_prefix"]

    assert run_cli(["--endpoint", store.url, "destroy", "--yes", "-f", str(stack)],
                   capsys)[0] == 0

    assert stored(store.url, prefix) == {}


def test_a_url_source_is_copied_by_the_service_and_not_copied_twice(
        store: Store, tmp_path: Path, files_server: tuple[str, Path]) -> None:
    origin, root = files_server
    sha = random_file(root / "model.gguf", 3 * MIB, head=b"GGUF\x03\x00\x00\x00")
    source = f"{origin}/model.gguf"
    data = tmp_path / ".aimodels"
    notes: list[object] = []

    first = upload(store.url, source, None, data, notes=notes)  # type: ignore[arg-type]
    again = upload(store.url, source, None, data)  # type: ignore[arg-type]

    assert first.how == "copied" and first.size == 3 * MIB and first.sha256 is None
    assert again.upload_id == first.upload_id  # the record found the finished copy
    assert store.proxy.count("PUT", "block") == 0
    assert store.proxy.count("PUT", "", 201) == 1  # one Put Blob From URL in all
    assert any("copies" in str(n) and "itself" in str(n) for n in notes)
    model = register(store.url, first)
    assert hashlib.sha256(stored(store.url, model["blob_prefix"])["model.gguf"]
                          ).hexdigest() == sha


def test_apply_registers_a_url_source_with_the_format_its_name_gives(
        store: Store, tmp_path: Path, files_server: tuple[str, Path]) -> None:
    origin, root = files_server
    random_file(root / "model.gguf", 1 * MIB, head=b"GGUF\x03\x00\x00\x00")
    stack = write_stack(tmp_path, "web", "https://models.example/model.gguf")
    model_yaml = stack / "model.yaml"
    model_yaml.write_text(model_yaml.read_text().replace("  format: safetensors\n", ""))
    desired = _with_path(load_manifests([str(stack)], env={}, strict_env=True).desired,
                         f"{origin}/model.gguf")  # the schema only lets https:// through

    result, replanned = asyncio.run(_apply_and_replan(store.url, desired))

    assert result.complete, [c.message for c in result.changes]
    with api(store) as session:
        model = session.get("/custom-models/web").json()
    assert model["format"] == "gguf" and model["size_bytes"] == 1 * MIB
    assert not replanned.summary().has_changes
    assert store.proxy.count("PUT", "block") == 0


def _with_path(desired: DesiredState, path: str) -> DesiredState:
    address = ResourceAddress("CustomModel", "web")
    resource = desired.resources[address]
    changed = dataclasses.replace(resource, spec={**resource.spec, "path": path})
    return dataclasses.replace(desired, resources={**desired.resources, address: changed})


async def _apply_and_replan(url: str, desired: DesiredState) -> tuple[ApplyResult, Plan]:
    path = desired.stack.data_dir / "state.json"
    config = ClientConfig(target="local", endpoint=url)
    async with AzureClient.from_config(config) as client:
        plan = await _plan(client, desired, path)
        result = await apply_plan(plan, desired, client, StateStore(path, read_state(path)),
                                  registry=default_registry())
        return result, await _plan(client, desired, path)


async def _plan(client: AzureClient, desired: DesiredState, path: Path) -> Plan:
    state = read_state(path)
    prior = prior_resources(state)
    inputs = resolve_inputs(desired, state, {})
    found = await read_live(desired, prior, client, registry=default_registry(), inputs=inputs)
    return make_plan(desired, found.live, prior, registry=default_registry(), inputs=inputs)


def test_an_unknown_per_block_check_is_a_usage_error_before_anything_is_sent(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stack = write_stack(tmp_path, "llama", "./a/model.safetensors")
    random_file(stack / "a" / "model.safetensors", 1 * MIB)
    monkeypatch.setenv("AIMODELS_UPLOAD_BLOCK_CHECK", "sha1")

    code, out, err = run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)],
                             capsys)

    assert code == 64, out + err
    assert "AIMODELS_UPLOAD_BLOCK_CHECK=sha1 is not a per-block check" in out + err
    assert "AIMODELS_UPLOAD_BLOCK_CHECK=md5" in out + err and "Traceback" not in out + err
    assert store.proxy.blocks == {}
