"""The process boundary of ``cli/main.py``: a bad AIMODELS_ENDPOINT is a usage error (64)
before any request; azure-identity's dump goes to the debug log, not before our one-line
error; and nothing a command prints, logs or writes to its debug log holds a known secret."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from aimodels.cli import debuglog
from aimodels.cli.main import _configure_logging, main
from aimodels.cli.output import ScrubbingStream, scrubbed_terminal
from aimodels.transport.redact import REDACTED, register_secret

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return Path(shutil.copytree(QUICKSTART, tmp_path / "quickstart",
                                ignore=shutil.ignore_patterns(".aimodels")))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out + err


@pytest.mark.parametrize(("endpoint", "problem"), [
    pytest.param("not a url", "is not an http:// or https:// URL", id="not-a-url"),
    pytest.param("http://127.0.0.1:99999", "has an invalid port", id="port-99999"),
    pytest.param("http://ci:hunter2-password@127.0.0.1:1", "'http://ci:REDACTED@127.0.0.1:1' "
                 "carries credentials", id="credentials"),
])
@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_bad_endpoint_is_a_usage_error_at_once(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stack: Path,
        endpoint: str, problem: str, how: str) -> None:
    flag = ["--endpoint", endpoint] if how == "flag" else []
    if how == "environment":
        monkeypatch.setenv("AIMODELS_ENDPOINT", endpoint)
    started = time.monotonic()
    code, text = run(capsys, *flag, "plan", "-f", str(stack))
    assert code == 64, text
    assert time.monotonic() - started < 5  # no retries: nothing was sent
    assert "error: AIMODELS_ENDPOINT (or --endpoint) '" in text and problem in text, text
    assert "hunter2-password" not in text
    assert "internal error" not in text


def test_without_credentials_azure_identity_stays_out_of_the_terminal(
        stack: Path, tmp_path: Path) -> None:
    """target: azure with no credential at all: our error, the hint, where the details are;
    none of azure-identity's lines. Only EnvironmentCredential is tried (AZURE_TOKEN_
    CREDENTIALS), so nothing leaves this machine, and it takes a second."""
    stack_file = stack / "stack.yaml"
    stack_file.write_text(stack_file.read_text().replace(
        "  target: local", "  target: azure\n  customModelRegistry: https://registry.invalid"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AIMODELS_"))}
    env.update(AZURE_TOKEN_CREDENTIALS="EnvironmentCredential", TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "aimodels", "plan", "-f", str(stack)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 4, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: Could not get an Azure token for https://"), lines
    assert "DefaultAzureCredential failed to retrieve a token" in lines[0]
    assert lines[1].startswith("hint: Run `az login`")
    [log] = tmp_path.glob("aimodels-debug-*.log")
    assert lines[2:] == [f"details: what the Azure SDK logged is in {log}"]
    logged = log.read_text()
    assert "WARNING azure.identity" in logged and "Attempted credentials:" in logged
    assert "EnvironmentCredential authentication unavailable" in logged


def test_library_lines_are_shown_with_vv_and_kept_otherwise(
        capsys: pytest.CaptureFixture[str]) -> None:
    azure = logging.getLogger("azure.identity._credentials.chained")
    debuglog.start_command()
    _configure_logging(0)
    azure.warning("DefaultAzureCredential failed to retrieve a token")
    assert capsys.readouterr().err == ""
    assert debuglog.has_library_lines()
    _configure_logging(2)
    azure.warning("second try")
    assert "azure.identity._credentials.chained: second try" in capsys.readouterr().err
    _configure_logging(0)


def test_our_warnings_read_like_every_other_warning(capsys: pytest.CaptureFixture[str]) -> None:
    _configure_logging(0)
    logging.getLogger("aimodels.transport").warning("plain http to 10.0.0.7")
    logging.getLogger("aimodels.transport").info("not at -v 0")
    assert capsys.readouterr().err == "warning: plain http to 10.0.0.7\n"


def test_the_debug_log_holds_no_known_secret(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    register_secret("sp-secret-in-a-traceback")
    debuglog.start_command()
    _configure_logging(0)
    logging.getLogger("azure.identity").warning("client secret sp-secret-in-a-traceback refused")
    try:
        raise KeyError("sp-secret-in-a-traceback")
    except KeyError as exc:
        path = debuglog.write_debug_log(["aimodels", "plan"], exc)
    logged = Path(path).read_text()
    assert "sp-secret-in-a-traceback" not in logged
    assert f"client secret {REDACTED} refused" in logged
    assert f"KeyError: '{REDACTED}'" in logged


def test_every_write_to_the_terminal_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("key-from-listkeys-0001")
    with scrubbed_terminal():
        click.echo("click: key-from-listkeys-0001")
        click.echo("click err: key-from-listkeys-0001", err=True)
        print("print: key-from-listkeys-0001")
        sys.stderr.write("raw: key-from-listkeys-0001\n")
        from rich.console import Console

        Console().print("rich: key-from-listkeys-0001")
    out, err = capsys.readouterr()
    assert "key-from-listkeys-0001" not in out + err
    assert out.splitlines() == [f"click: {REDACTED}", f"print: {REDACTED}", f"rich: {REDACTED}"]
    assert err.splitlines() == [f"click err: {REDACTED}", f"raw: {REDACTED}"]


def test_the_scrubbing_stream_is_the_stream_for_everything_else() -> None:
    inner = io.StringIO()
    stream = ScrubbingStream(inner)
    assert stream.write("abc") == 3 and stream.isatty() is False
    stream.writelines(["d", "e"])
    assert inner.getvalue() == "abcde"
