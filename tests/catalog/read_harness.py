"""Helpers of the read-command tests: an ``Azure`` helper that sets up resources through the
emulator's own HTTP APIs, a Stack written in tmp_path, and ``run`` to call the CLI through
``main`` (so exit codes are the real ones) with click's CliRunner. Fixtures are in conftest.py.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from azure.storage.blob import ContainerClient
from click.testing import CliRunner, Result

from aimodels.cli.main import main
from aimodels.emulator.cognitiveservices.common import seed_account
from aimodels.emulator.containerservice.parents import seed_parents
from aimodels.emulator.server import RunningEmulator
from aimodels.state.local import write_state
from aimodels.state.values import ResourceState, State

CS_VERSION = "2026-08-02-preview"
COG_VERSION = "2025-09-01"
PHI_MINI = "microsoft/Phi-4-mini-instruct"
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
A100 = "Standard_NC24ads_A100_v4"
RG = "rg-read"
MANAGER = "aim"
ACCOUNT = "acct"


class Entry:
    """Lets CliRunner drive ``aimodels.cli.main.main`` (our exit-code mapping), not the bare
    click group, whose standalone mode would turn every AimodelsError into exit 1."""

    name = "aimodels"

    def main(self, args: Sequence[str], prog_name: str | None = None, **extra: Any) -> None:
        main(list(args))


@dataclass
class Azure:
    """One test's corner of the emulator: subscription ``sub``, group ``rg-read``, AI manager
    ``aim`` (namespaces default, dev, staging, prod) and Foundry account ``acct``, in eastus."""

    running: RunningEmulator
    sub: str
    http: httpx.Client = field(repr=False)

    @property
    def url(self) -> str:
        return self.running.url

    def cs(self, tail: str) -> str:
        return (f"/subscriptions/{self.sub}/resourceGroups/{RG}/providers/"
                f"Microsoft.ContainerService/{tail}")

    def cog(self, tail: str) -> str:
        return (f"/subscriptions/{self.sub}/resourceGroups/{RG}/providers/"
                f"Microsoft.CognitiveServices/{tail}")

    def model_deployment(self, name: str, namespace: str = "prod", model: str = PHI_MINI,
                         manager: str = MANAGER, wait: bool = True, **props: Any) -> str:
        """PUT a ModelDeployment and (by default) wait until it stops provisioning."""
        model_id = (f"/subscriptions/{self.sub}/providers/Microsoft.ContainerService/locations/"
                    f"eastus/aiModels/{hashlib.sha256(model.encode()).hexdigest()[:16]}")
        path = self.cs(f"aiManagers/{manager}/namespaces/{namespace}/modelDeployments/{name}")
        body = {"properties": {"modelResourceId": model_id, "vmSize": A100,
                               "scale": {"manual": {"replicas": 1}}, **props}}
        answer = self.http.put(path, params={"api-version": CS_VERSION}, json=body)
        assert answer.status_code in (200, 201), answer.text
        if wait:
            self._settle(path, CS_VERSION)
        return path

    def model_source(self, name: str) -> str:
        path = self.cs(f"aiManagers/{MANAGER}/modelSources/{name}")
        answer = self.http.put(path, params={"api-version": CS_VERSION},
                               json={"properties": {"sourceType": "HuggingFace"}})
        assert answer.status_code in (200, 201), answer.text
        return path

    def foundry_deployment(self, name: str, account: str = ACCOUNT, capacity: int = 10) -> str:
        path = self.cog(f"accounts/{account}/deployments/{name}")
        body = {"sku": {"name": "GlobalStandard", "capacity": capacity},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o",
                                         "version": "2024-11-20"}}}
        answer = self.http.put(path, params={"api-version": COG_VERSION}, json=body)
        assert answer.status_code in (200, 201), answer.text
        self._settle(path, COG_VERSION)
        return path

    def as_custom(self, path: str, model: str, version: str = "1.0") -> None:
        """Make the deployment at ``path`` serve custom model ``model``, as the emulator holds
        such a deployment: a Foundry ``{format: Custom, name, version, source}`` model, or a
        ModelDeployment's registry path. Set in the store: the emulator's PUT does not take
        custom models yet (another change settles that wire contract)."""
        parts = path.split("/")
        names = [parts[2], parts[4], *parts[8::2]]
        key = "/".join(n.lower() for n in names)
        foundry = "Microsoft.CognitiveServices" in path
        collection = "cog.deployments" if foundry else "cs.modelDeployments"
        store = self.running.emulator.store
        doc = store.get(collection, key)
        assert doc is not None, key
        if foundry:
            doc["properties"]["model"] = {"format": "Custom", "name": model, "version": version,
                                          "source": f"/custom-models/{model}"}
        else:
            doc["properties"]["modelResourceId"] = f"/custom-models/{model}"
        store.put(collection, key, doc)

    def access_keys(self, namespace: str = "prod", manager: str = MANAGER) -> dict[str, Any]:
        path = self.cs(f"aiManagers/{manager}/namespaces/{namespace}/listAccessInfo")
        answer = self.http.post(path, params={"api-version": CS_VERSION})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def account_keys(self, account: str = ACCOUNT) -> dict[str, Any]:
        answer = self.http.post(self.cog(f"accounts/{account}/listKeys"),
                                params={"api-version": COG_VERSION})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def upload(self, model: str, files: dict[str, bytes]) -> dict[str, Any]:
        """Initialize an upload and put ``files`` into its folder (azure-storage-blob), each
        with its sha256 as metadata, as apply's uploader commits them."""
        grant = self.http.post("/datastore/upload/initialize", json={
            "model_name": model, "file_size": sum(map(len, files.values())),
            "format": "safetensors"}).json()
        with ContainerClient.from_container_url(grant["container_sas_uri"]) as container:
            for name, data in files.items():
                container.upload_blob(grant["blob_prefix"] + name, data,
                                      metadata={"sha256": hashlib.sha256(data).hexdigest()})
        return dict(grant)

    def register(self, grant: dict[str, Any], name: str, version: str = "1.0",
                 sha256: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "version": version, "upload_id": grant["upload_id"]}
        if sha256:
            body["sha256"] = sha256
        answer = self.http.post("/custom-models", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def custom_model(self, name: str, version: str = "1.0", data: bytes = b"weights") -> str:
        """Upload one file and register it; returns its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        grant = self.upload(name, {"model.safetensors": data})
        self.register(grant, name, version, digest)
        return digest

    def _settle(self, path: str, version: str) -> None:
        for _ in range(200):
            body = self.http.get(path, params={"api-version": version}).json()
            if body["properties"]["provisioningState"] not in ("Creating", "Updating",
                                                               "Accepted"):
                return
            time.sleep(0.02)
        raise AssertionError(f"{path} did not finish provisioning")


def write_stack(folder: Path, azure: Azure, *extra: str, ai_manager: str | None = MANAGER,
                account: str | None = ACCOUNT) -> Path:
    """A Stack manifest (plus ``extra`` YAML documents) in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["apiVersion: aimodels/v1", "kind: Stack", "metadata: {name: read-test}", "spec:",
             "  target: local", f"  subscriptionId: {azure.sub}", f"  resourceGroup: {RG}",
             "  location: eastus"]
    lines += [f"  aiManager: {ai_manager}"] if ai_manager else []
    lines += [f"  foundryAccount: {account}"] if account else []
    text = "\n".join(lines) + "\n" + "".join(f"---\n{doc.strip()}\n" for doc in extra)
    (folder / "stack.yaml").write_text(text)
    return folder


def run(azure: Azure, folder: Path, *args: str) -> Result:
    """``aimodels --endpoint <emulator> ARGS -f folder`` in-process; stdout and stderr apart."""
    return CliRunner().invoke(Entry(), ["--endpoint", azure.url, *args, "-f", str(folder)])


def write_managed(folder: Path, *entries: tuple[str, str]) -> Path:
    """A state file beside the Stack managing ``(address, resource id)`` pairs."""
    state = State.new()
    for address, resource_id in entries:
        state = state.with_resource(ResourceState(address, resource_id))
    path = folder / ".aimodels" / "state.json"
    write_state(path, state)
    return path


#: A second Foundry account of every test's subscription: it takes Entra ID tokens only.
KEYLESS = "keyless"


def new_azure(running: RunningEmulator) -> Iterator[Azure]:
    sub = str(uuid.uuid4())
    seed_parents(running.emulator, sub, RG, "eastus", MANAGER)
    seed_account(running.emulator, sub, RG, ACCOUNT, "eastus")
    seed_account(running.emulator, sub, RG, KEYLESS, "eastus", disable_local_auth=True)
    with httpx.Client(base_url=running.url, headers={"Authorization": "Bearer test"},
                      timeout=10) as http:
        yield Azure(running, sub, http)
