"""End-to-end helpers: the real ``aimodels`` entry point, run in-process with its exit handling,
against an emulator served over HTTP (``--endpoint``), on a copy of examples/quickstart.

Nothing of ours is patched: manifests are edited on disk, changes "outside aimodels" go to the
emulator's HTTP API directly, and outputs are read as a user or a CI job reads them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aimodels.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
PLAN_SCHEMA = ROOT / "schemas" / "plan.schema.json"

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-quickstart"
PROVIDERS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers"
CS_VERSION = "2026-08-02-preview"
COG_VERSION = "2025-09-01"

#: The quickstart's resources, one of each kind.
QUICKSTART_ADDRESSES = ("CustomModel/tiny-llama", "FoundryDeployment/gpt4o-chat",
                        "ModelDeployment/phi4-chat", "ModelSource/hf-public")


@dataclass(frozen=True, slots=True)
class Run:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Cli:
    """``aimodels --endpoint URL <command> [args] -f STACK`` with the process exit caught."""

    def __init__(self, capsys: pytest.CaptureFixture[str], url: str, stack: Path) -> None:
        self.capsys = capsys
        self.url = url
        self.stack = stack

    def __call__(self, *args: str, endpoint: bool = True) -> Run:
        command, rest = args[0].split(), list(args[1:])
        prefix = ["--endpoint", self.url] if endpoint else []
        self.capsys.readouterr()  # drop what earlier steps printed
        with pytest.raises(SystemExit) as exited:
            main([*prefix, *command, *rest, "-f", str(self.stack)])
        out, err = self.capsys.readouterr()
        return Run(int(exited.value.code or 0), out, err)

    def applied(self, *args: str) -> Run:
        """``apply --yes``, which must complete."""
        done = self("apply", "--yes", *args)
        assert done.code == 0, done.text
        assert "Apply complete" in done.out, done.text
        return done

    def assert_no_changes(self) -> None:
        done = self("plan", "--detailed-exitcode")
        assert done.code == 0, done.text
        assert "No changes. Your infrastructure matches the manifests." in done.out


def copy_quickstart(folder: Path) -> Path:
    """A copy of examples/quickstart (without any local .aimodels data)."""
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns(".aimodels", "__pycache__"))
    return folder


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) with ``new`` in a manifest."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


def add_manifest(stack: Path, name: str, text: str) -> Path:
    path = stack / name
    path.write_text(text)
    return path


def state_of(stack: Path) -> dict[str, Any]:
    return dict(json.loads((stack / ".aimodels" / "state.json").read_text()))


# --- the emulator's API, called directly ("outside aimodels") ----------------------------------


def deployment_path(name: str, namespace: str = "default") -> str:
    return (f"{PROVIDERS}/Microsoft.ContainerService/aiManagers/quickstart/namespaces/{namespace}"
            f"/modelDeployments/{name}")


def source_path(name: str) -> str:
    return f"{PROVIDERS}/Microsoft.ContainerService/aiManagers/quickstart/modelSources/{name}"


def foundry_path(name: str, account: str = "quickstart-foundry") -> str:
    return f"{PROVIDERS}/Microsoft.CognitiveServices/accounts/{account}/deployments/{name}"


def arm(session: httpx.Client, method: str, path: str, body: Any = None) -> httpx.Response:
    """One ARM call to the emulator with the api-version its provider needs."""
    version = COG_VERSION if "Microsoft.CognitiveServices" in path else CS_VERSION
    return session.request(method, path, params={"api-version": version}, json=body)
