"""`aimodels emulator serve` as a user runs it: a separate process that announces its URL on
the first stdout line, answers there, stops cleanly on SIGINT and SIGTERM, keeps its state in
``--data`` across a restart, takes ``--fixtures``, and refuses bad input with a message and an
exit code rather than a traceback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from aimodels.errors import EXIT_ERROR, EXIT_USAGE

SUB = "00000000-0000-0000-0000-000000000000"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-quickstart/providers"
ACCOUNT = f"{GROUP}/Microsoft.CognitiveServices/accounts/quickstart-foundry"
SOURCE = f"{GROUP}/Microsoft.ContainerService/aiManagers/quickstart/modelSources/kept"
CATALOG = f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/aiModels"
CS = {"api-version": "2026-08-02-preview"}
BEARER = {"Authorization": "Bearer t"}
ANNOUNCE = re.compile(r"aimodels emulator listening on (http://127\.0\.0\.1:(\d+))\n")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``aimodels emulator serve ARGS`` to its end (for runs that must fail at once)."""
    return subprocess.run([sys.executable, "-m", "aimodels", "emulator", "serve", *args],
                          capture_output=True, text=True, timeout=30, env=dict(os.environ))


class Served:
    """A running ``emulator serve`` process and the URL it announced."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aimodels", "emulator", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline()
        match = ANNOUNCE.fullmatch(self.first_line)
        assert match, (self.first_line, self.stop(signal.SIGKILL))
        self.url, self.port = match.group(1), int(match.group(2))

    def stop(self, sig: signal.Signals) -> tuple[int, str]:
        """Send ``sig``; return the exit code and stderr."""
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=10)
        return self.process.returncode, stderr


@contextmanager
def served(*args: str) -> Iterator[Served]:
    server = Served(*args)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop(signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_serve_announces_its_url_answers_there_and_stops_cleanly(sig: signal.Signals) -> None:
    with served("--port", "0") as server:
        account = httpx.get(server.url + ACCOUNT, params={"api-version": "2025-09-01"},
                            headers=BEARER)
        code, stderr = server.stop(sig)
    assert server.port != 0
    assert account.status_code == 200
    assert account.json()["name"] == "quickstart-foundry"
    assert code == 0
    assert "Traceback" not in stderr


def test_data_dir_keeps_resources_across_a_restart(tmp_path: Path) -> None:
    with served("--data", str(tmp_path)) as server:
        created = httpx.put(server.url + SOURCE, params=CS, headers=BEARER,
                            json={"properties": {"sourceType": "HuggingFace"}})
        code, _ = server.stop(signal.SIGTERM)
    assert created.status_code == 201
    assert code == 0
    with served("--data", str(tmp_path)) as server:
        found = httpx.get(server.url + SOURCE, params=CS, headers=BEARER)
        server.stop(signal.SIGTERM)
    assert found.status_code == 200
    assert found.json()["eTag"] == created.json()["eTag"]


def test_fixtures_file_replaces_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("containerService.catalog:\n"
                    "  - modelId: acme/tiny-chat\n"
                    "    maxContextLength: 4096\n"
                    "    parameterCount: 1000000000\n")
    with served("--fixtures", str(path)) as server:
        catalog = httpx.get(server.url + CATALOG, params=CS, headers=BEARER).json()["value"]
        server.stop(signal.SIGTERM)
    assert [m["properties"]["modelId"] for m in catalog] == ["acme/tiny-chat"]


def test_a_bad_fixtures_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text('{"containerService.catalogue": []}')
    result = run("--fixtures", str(path))
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert f"error: {path}: unknown section 'containerService.catalogue'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--port", str(port))
    assert result.returncode == EXIT_ERROR
    assert f"port {port} is in use" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unusable_host_and_data_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "emulator.sqlite3").write_text("not a database")
    bad_data = run("--data", str(tmp_path))
    bad_host = run("--host", "192.0.2.1")  # TEST-NET-1: never an address of this machine
    assert bad_data.returncode == bad_host.returncode == EXIT_USAGE
    assert f"--data {tmp_path}: cannot open the emulator's database" in bad_data.stderr
    assert "cannot listen on 192.0.2.1:0" in bad_host.stderr
    assert "Traceback" not in bad_data.stderr + bad_host.stderr
