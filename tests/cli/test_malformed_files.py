"""Malformed state and plan files through the real entry point: every command that reads them
answers with a clean error (`error:` and a hint, exit 1 or 6), never an internal error (exit 70)
and never a traceback. The readers' properties are in tests/state and tests/plan; this checks
the commands around them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aimodels.cli.main import main
from aimodels.errors import EXIT_INTERNAL

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
GOOD_HEADER = {"formatVersion": 1, "lineage": "l", "serial": 1, "digestKey": "a" * 64}

#: Each malformed case: what is written where (relative to the quickstart folder), and the
#: commands that read it and must refuse it; the others must still not exit 70.
STATE_CASES = {
    "state-not-utf-8": ({".aimodels/state.json": b"\xff\xfe{\x00}"}, "all"),
    "state-unknown-kind": ({".aimodels/state.json": json.dumps(
        {**GOOD_HEADER, "resources": [{"address": "Widget/a", "resourceId": "/x"}]}).encode()},
        "all"),
    "state-truncated": ({".aimodels/state.json": b'{"formatVersion": 1, "lineage": '}, "all"),
    "state-deep": ({".aimodels/state.json": b"[" * 50_000 + b"]" * 50_000}, "all"),
    "aimodels-is-a-file": ({".aimodels": b"not a folder"}, "all"),
    # A valid state whose applied spec was edited by hand where a name or object belongs.
    "applied-model-not-an-object": ({".aimodels/state.json": json.dumps(
        {**GOOD_HEADER, "resources": [{
            "address": "ModelDeployment/phi4-chat", "desired": {"model": ["x"]},
            "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                          "rg-quickstart/providers/Microsoft.ContainerService/aiManagers/"
                          "quickstart/namespaces/default/modelDeployments/phi4-chat"}]}).encode()},
        ("plan", "apply", "destroy", "drift")),
    "registered-versions-not-a-list": ({".aimodels/state.json": json.dumps(
        {**GOOD_HEADER, "resources": [{"address": "CustomModel/tiny-llama", "resourceId": "/x",
                                       "extra": {"registeredVersions": 5}}]}).encode()},
        "all"),
    "lock-not-utf-8": ({".aimodels/state.lock": b"\xff"},
                       ("apply", "destroy", "state rm", "state rehome")),
    "journal-not-utf-8": ({".aimodels/journal.jsonl": b'{"id": "\xff"}\n'},
                          ("plan", "apply", "destroy")),
}
COMMANDS = {"plan": ("plan",), "apply": ("apply", "--yes"), "destroy": ("destroy", "--yes"),
            "drift": ("drift",), "state list": ("state", "list"),
            "state rm": ("state", "rm", "ModelSource/hf-public"),
            "state rehome": ("state", "rehome", "--yes"),
            "deployments list": ("deployments", "list")}


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("malformed") / "quickstart"
    shutil.copytree(QUICKSTART, folder, ignore=shutil.ignore_patterns(".aimodels"))
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out + err


def lay_out(folder: Path, files: dict[str, bytes]) -> None:
    """The quickstart with exactly these files under .aimodels (or .aimodels as a file)."""
    data = folder / ".aimodels"
    if data.is_dir():
        shutil.rmtree(data)
    data.unlink(missing_ok=True)
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)


@pytest.mark.parametrize("case", list(STATE_CASES))
def test_a_malformed_state_folder_is_a_clean_error_for_every_command(
        capsys: pytest.CaptureFixture[str], quickstart: Path, case: str) -> None:
    files, refusing = STATE_CASES[case]
    lay_out(quickstart, files)
    for name, command in COMMANDS.items():
        code, text = run(capsys, *command, "-f", str(quickstart))
        assert code != EXIT_INTERNAL, f"{case}, {name}: {text}"
        assert "Traceback" not in text and "internal error" not in text, text
        if refusing == "all" or name in refusing:
            assert code in (1, 6) and "error:" in text, f"{case}, {name}: {text}"


@pytest.mark.parametrize(("content", "code"), [
    pytest.param(b"\x00\xff garbage", 1, id="bytes"),
    pytest.param(b'{"kind": "aimodels-plan", "formatVersion": "99"}', 6, id="format-99"),
    pytest.param(b'{"kind": "aimodels-plan", "formatVersion": "1.0", "changes": "x"}', 6,
                 id="changes-x"),
])
def test_a_malformed_plan_file_is_a_clean_error(
        capsys: pytest.CaptureFixture[str], quickstart: Path, tmp_path: Path, content: bytes,
        code: int) -> None:
    lay_out(quickstart, {})
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(content)
    exited, text = run(capsys, "apply", str(plan_file), "-f", str(quickstart))
    assert exited == code, text
    assert "Traceback" not in text and "internal error" not in text
