"""Helpers for the azureblob backend tests: a container in Azurite, Stack folders ("runners")
whose state block points at it, and what the container holds, read with azure-storage-blob
directly (outside aimodels)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient
from azurite import AzuriteBlob

from aimodels.model.desired import StateBackendConfig
from aimodels.state.blob import BlobBackend

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
STATE_BLOB = "team.state.json"
LOCAL_STATE_BLOCK = """  state:
    backend: local                 # .aimodels/state.json beside this file"""


@dataclass(frozen=True)
class Team:
    """A container in Azurite that one Stack's runners share."""

    account_url: str
    container: str
    connection_string: str

    def state_block(self, blob: str = STATE_BLOB, lease: int = 15) -> str:
        return (f"  state:\n    backend: azureblob\n    accountUrl: {self.account_url}\n"
                f"    container: {self.container}\n    blob: {blob}\n"
                f"    leaseSeconds: {lease}\n")

    def backend(self, blob: str = STATE_BLOB, lease: int = 15) -> BlobBackend:
        """A backend on the shared blob, as another machine opens it."""
        config = StateBackendConfig("azureblob", account_url=self.account_url,
                                    container=self.container, blob=blob, lease_seconds=lease)
        return BlobBackend.open(config, {"AZURE_STORAGE_CONNECTION_STRING":
                                         self.connection_string})

    def client(self) -> ContainerClient:
        return ContainerClient.from_connection_string(self.connection_string, self.container)

    def blobs(self) -> dict[str, bytes]:
        """Every blob and snapshot in the container, by ``name`` or ``name@snapshot``."""
        found = {}
        with self.client() as container:
            for item in container.list_blobs(include=["snapshots"]):
                key = f"{item.name}@{item.snapshot}" if item.snapshot else item.name
                blob = container.get_blob_client(item.name, snapshot=item.snapshot)
                found[key] = blob.download_blob().readall()
        return found

    def state(self, blob: str = STATE_BLOB) -> dict[str, Any]:
        with self.client() as container:
            return dict(json.loads(container.download_blob(blob).readall()))


def new_team(azurite: AzuriteBlob) -> Team:
    """A fresh container (its name unique per test) in ``azurite``."""
    connection = (f"DefaultEndpointsProtocol=http;AccountName={azurite.account_name};"
                  f"AccountKey={azurite.account_key};BlobEndpoint={azurite.account_url};")
    name = f"state-{uuid.uuid4().hex[:12]}"
    with ContainerClient.from_connection_string(connection, name) as container:
        container.create_container()
    return Team(azurite.account_url, name, connection)


def runner(folder: Path, team: Team, lease: int = 15) -> Path:
    """A checkout of the quickstart in ``folder`` whose state is the team's blob."""
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns(".aimodels",
                                                                      "__pycache__"))
    use_blob(folder / "stack.yaml", team, lease)
    return folder


def use_blob(stack_file: Path, team: Team, lease: int = 15) -> None:
    """Point a Stack file's state at the team's blob (the quickstart's block, or none)."""
    text = stack_file.read_text()
    if LOCAL_STATE_BLOCK in text:
        text = text.replace(LOCAL_STATE_BLOCK + "\n", team.state_block(lease=lease))
    else:
        text = text.rstrip("\n") + "\n" + team.state_block(lease=lease)
    stack_file.write_text(text)


def use_local(stack_file: Path, team: Team) -> None:
    stack_file.write_text(stack_file.read_text().replace(team.state_block(),
                                                         LOCAL_STATE_BLOCK + "\n"))


def local_files(folder: Path) -> list[str]:
    """What aimodels left on this runner's disk (relative paths under .aimodels)."""
    data = folder / ".aimodels"
    return sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file()) \
        if data.exists() else []


def environment(team: Team, **extra: str) -> dict[str, str]:
    """The environment of a runner subprocess: no ambient aimodels variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMODELS_")}
    return {**env, "NO_COLOR": "1", "AZURE_STORAGE_CONNECTION_STRING": team.connection_string,
            **extra}
