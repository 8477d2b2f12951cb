"""A pytest fixture that runs Azurite's blob service (npm ``azurite``) on a free loopback port.

Import ``azurite_blob`` into a test module (or a conftest) to use it. Azurite is started the way
docs/emulator.md and azure-contracts.md §4.2 describe: in memory, telemetry off, and with
``--skipApiVersionCheck`` (azure-storage-blob 12.31.1 sends an x-ms-version Azurite 3.35 does not
know yet). A missing Azurite fails the test with what to run; it never skips.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's well-known development account (public, documented by Microsoft; not a secret).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class AzuriteBlob:
    """A running Azurite blob service: its account URL, account name and key."""

    account_url: str
    account_name: str
    account_key: str

    @property
    def external_blob(self) -> tuple[str, str, str]:
        """The value for ``EmulatorConfig.external_blob``."""
        return (self.account_url, self.account_name, self.account_key)


@pytest.fixture(scope="module")
def azurite_blob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteBlob]:
    """Azurite on 127.0.0.1:<free port> for the module's tests; stopped afterwards."""
    if not AZURITE_BLOB.exists():
        pytest.fail(f"Azurite is not installed ({AZURITE_BLOB} is missing): run scripts/test, "
                    "which installs it with npm (or `npm install` in the repository root).")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    log = (workdir / "azurite.log").open("w+b")
    process = subprocess.Popen(
        [str(AZURITE_BLOB), "--inMemoryPersistence", "--blobHost", "127.0.0.1",
         "--blobPort", str(port), "--silent", "--disableTelemetry", "--skipApiVersionCheck"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, port, log)
        yield AzuriteBlob(f"http://127.0.0.1:{port}/{ACCOUNT_NAME}", ACCOUNT_NAME, ACCOUNT_KEY)
    finally:
        _stop(process)
        log.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: object) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Azurite exited with {process.returncode} before listening:\n"
                        f"{_output(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    _stop(process)
    pytest.fail(f"Azurite did not listen on port {port} within {START_TIMEOUT_S} s:\n"
                f"{_output(log)}")


def _output(log: object) -> str:
    log.seek(0)  # type: ignore[attr-defined]
    return log.read().decode(errors="replace")  # type: ignore[attr-defined]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
