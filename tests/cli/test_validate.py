"""`aimodels validate` and `aimodels schema` through the real entry point: exit codes 0, 3, 64,
what goes to stdout and stderr, every golden case through the CLI, and a start-up that does not
import yaml, jsonschema or rich."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aimodels.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "manifest" / "cases"
BAD = sorted(p for p in CASES_DIR.iterdir() if p.is_dir() and p.name.startswith("bad-"))
GOOD = sorted(p for p in CASES_DIR.iterdir() if p.is_dir() and p.name.startswith("good-"))
QUICKSTART = ROOT / "examples" / "quickstart"
LOCATED = re.compile(r"^\S+:\d+:\d+: error: ", re.MULTILINE)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process through ``main`` (exit handling included)."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def case_args(case: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    config_file = case / "case.json"
    config = json.loads(config_file.read_text()) if config_file.exists() else {}
    for key, value in config.get("env", {}).items():
        monkeypatch.setenv(key, value)
    args = ["validate"] + [a for p in config.get("paths", ["."]) for a in ("-f", p)]
    return args + (["--strict-env"] if config.get("strict_env") else [])


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_every_bad_case_exits_3_with_a_location_and_no_traceback(
        case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(case)
    code, out, err = run_cli(case_args(case, monkeypatch), capsys)
    assert code == 3, err
    assert out == ""
    assert "Traceback" not in err and "internal error" not in err
    assert err.rstrip().endswith("hint: fix them and run `aimodels validate` again "
                                 "(no Azure calls)")
    if case.name in ("bad-path-does-not-exist", "bad-folder-without-manifests"):
        assert re.search(r"^\S+: error: ", err, re.MULTILINE)  # a path, no line: nothing to read
    else:
        assert LOCATED.search(err), err


@pytest.mark.parametrize("case", GOOD, ids=[c.name for c in GOOD])
def test_every_good_case_exits_0_with_a_summary(
        case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(case)
    code, out, err = run_cli(case_args(case, monkeypatch), capsys)
    assert code == 0, err
    assert re.fullmatch(r"\d+ resources? in \d+ files? (is|are) valid \(Stack \S+, target \w+\)"
                        r"(, \d+ warnings?)?\n", out)
    assert " error: " not in err


def test_validate_quickstart_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["validate", "-f", str(QUICKSTART)], capsys)
    assert (code, err) == (0, "")
    assert out == "4 resources in 5 files are valid (Stack quickstart, target local)\n"


def test_validate_defaults_to_the_current_folder(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(QUICKSTART)
    assert run_cli(["validate"], capsys)[0] == 0


def test_warnings_go_to_stderr_and_are_counted(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(CASES_DIR / "good-fromenv-unset-is-a-warning")
    code, out, err = run_cli(["validate"], capsys)
    assert code == 0
    assert out.endswith("valid (Stack team-alpha, target local), 1 warning\n")
    assert "source.yaml:8:14: warning: " in err and "HF_TOKEN is not set" in err


def test_strict_env_turns_the_warning_into_exit_3(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(CASES_DIR / "good-fromenv-unset-is-a-warning")
    assert run_cli(["validate", "--strict-env"], capsys)[0] == 3
    monkeypatch.setenv("HF_TOKEN", "set")
    assert run_cli(["validate", "--strict-env"], capsys)[:2] == (
        0, "1 resource in 2 files is valid (Stack team-alpha, target local)\n")


def test_json_output_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["validate", "-f", str(QUICKSTART), "--output", "json"], capsys)
    report = json.loads(out)
    assert code == 0
    assert report["valid"] is True and report["resources"] == 4 and len(report["files"]) == 5
    assert report["diagnostics"] == []


def test_json_output_when_invalid(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(CASES_DIR / "bad-unknown-field-typo")
    code, out, err = run_cli(["validate", "-o", "json"], capsys)
    report = json.loads(out)
    assert (code, err) == (3, "")
    assert report["valid"] is False
    assert report["diagnostics"] == [{
        "severity": "error", "file": "deployment.yaml", "line": 9, "column": 3,
        "path": "spec.vmSzie", "address": "ModelDeployment/phi4-chat",
        "summary": "unknown field 'vmSzie' in spec; did you mean 'vmSize'?",
        "detail": "A ModelDeployment's spec takes: aiManager, namespace, model, modelSource, "
                  "vmSize, performanceMode, scale, overrides, lifecycle."}]


def test_a_missing_path_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["validate", "-f", str(tmp_path / "nope")], capsys)
    assert code == 3
    assert f"{tmp_path / 'nope'}: error: no such file or folder" in err


def test_a_device_is_exit_3_not_no_such_file(capsys: pytest.CaptureFixture[str]) -> None:
    """-f /dev/null used to say 'no such file or folder'; it exists, it is just no manifest."""
    code, _, err = run_cli(["validate", "-f", "/dev/null"], capsys)
    assert code == 3
    assert "/dev/null: error: '/dev/null' is not a regular file or folder: it is a character " \
           "device" in err
    assert "no such file" not in err


@pytest.mark.parametrize("args", [["validate", "--bogus"], ["validate", "--output", "xml"],
                                  ["validate", "-f"], ["schema", "NoSuchKind"],
                                  ["schema", "Stack", "extra"]])
def test_usage_errors_exit_64(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(args, capsys)
    assert code == 64
    assert "Traceback" not in err


def test_schema_unknown_kind_suggests_one(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run_cli(["schema", "modeldeploymnt"], capsys)
    assert "error: unknown kind 'modeldeploymnt'; did you mean 'ModelDeployment'?" in err


def test_schema_lists_the_kinds_and_their_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["schema"], capsys)
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert [r[:2] for r in rows] == [
        ["Stack", "stack.schema.json"], ["ModelSource", "modelsource.schema.json"],
        ["CustomModel", "custommodel.schema.json"],
        ["ModelDeployment", "modeldeployment.schema.json"],
        ["FoundryDeployment", "foundrydeployment.schema.json"]]
    assert all(Path(r[2]).is_file() for r in rows)


@pytest.mark.parametrize("spelling", ["ModelDeployment", "modeldeployment", "MODELDEPLOYMENT"])
def test_schema_prints_the_shipped_file(spelling: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["schema", spelling], capsys)
    assert code == 0
    assert out == (ROOT / "schemas" / "modeldeployment.schema.json").read_text()


def test_the_installed_command_validates_the_quickstart() -> None:
    proc = subprocess.run([sys.executable, "-m", "aimodels", "validate", "-f", str(QUICKSTART)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "4 resources in 5 files are valid" in proc.stdout


def test_the_installed_command_exits_3_on_a_bad_case() -> None:
    proc = subprocess.run([sys.executable, "-m", "aimodels", "validate"], capture_output=True,
                          text=True, timeout=60, cwd=CASES_DIR / "bad-many-problems-at-once")
    assert proc.returncode == 3
    assert len(LOCATED.findall(proc.stderr)) == 5
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["validate", "--help"]])
def test_startup_does_not_import_yaml_jsonschema_or_rich(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "aimodels", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert not {"yaml", "jsonschema", "rich"} & imported
    # Nor the network and async machinery only the working commands need.
    assert not {"asyncio", "httpx", "ssl", "azure", "deepdiff"} & imported
    assert "click" in imported  # the measurement works: it does list imports
