"""``aimodels emulator serve``: the local Azure emulator as a standalone HTTP server.

Exit codes: 0 after SIGINT or SIGTERM (a clean stop), 64 for a flag value that cannot be used
(a ``--fixtures`` file that is not JSON/YAML or not in the fixtures format, a ``--data`` directory
that cannot hold the database, a ``--host`` that is not an address of this machine), 1 when the
port is in use or needs privileges.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aimodels.emulator.config import Fidelity
from aimodels.errors import UsageError

#: Azurite's well-known development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@click.group()
def emulator() -> None:
    """The local Azure emulator (ARM, registry, blob, inference at one origin)."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep a loopback address: blob SAS URIs need the "
              "client to call 127.0.0.1 or localhost.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="0 picks a free port.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False),
              help="Keep state in SQLite under DIR (a restart keeps everything). Default: memory.")
@click.option("--latency-ms", type=click.IntRange(0, 60000), default=0, show_default=True,
              help="Added to every request.")
@click.option("--lro-seconds", type=click.FloatRange(0, 3600), default=2.0, show_default=True,
              help="How long a long-running operation takes.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of ARM, registry and inference requests answered 500/503.")
@click.option("--throttle-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of ARM, registry and inference requests answered 429 with Retry-After.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the fault and throttle sequence and of the access keys.")
@click.option("--fixtures", type=click.Path(dir_okay=False, exists=True),
              help="A JSON or YAML file whose sections replace the built-in fixtures (catalog, "
              "quota, prices, seeded parents); see docs/emulator.md.")
@click.option("--fidelity", type=click.Choice(["headers", "recorded"]), default="headers",
              show_default=True,
              help="LRO shape of Foundry deployment writes: 'headers' (Azure-AsyncOperation and "
              "Retry-After-Ms on every write: fast pollers) or 'recorded' (as Azure's live "
              "recordings: PUT 201 with no LRO header, DELETE 200 at once).")
@click.option("--azurite", metavar="ACCOUNT_URL",
              help="Hand out SAS URIs for this external Azurite account URL instead of our own "
              "blob endpoint (the well-known devstoreaccount1 key is used).")
def serve(host: str, port: int, data_dir: str | None, latency_ms: int, lro_seconds: float,
          fault_rate: float, throttle_rate: float, seed: int, fixtures: str | None,
          fidelity: Fidelity, azurite: str | None) -> None:
    """Serve the emulator until SIGINT/SIGTERM.

    The first line on stdout is `aimodels emulator listening on http://HOST:PORT`; point
    aimodels at it with AIMODELS_ENDPOINT=http://HOST:PORT.
    """
    from aimodels.emulator.config import EmulatorConfig
    from aimodels.emulator.server import serve_forever
    from aimodels.emulator.store import StoreError

    if fault_rate + throttle_rate > 1:
        raise UsageError(f"--fault-rate {fault_rate} and --throttle-rate {throttle_rate} add up "
                         "to more than 1", hint="They are shares of the same requests.")
    config = EmulatorConfig(
        lro_seconds=lro_seconds, latency_ms=latency_ms, fault_rate=fault_rate,
        throttle_rate=throttle_rate, seed=seed,
        data_dir=Path(data_dir) if data_dir else None,
        fixtures_path=Path(fixtures) if fixtures else None,
        external_blob=(azurite, AZURITE_ACCOUNT, AZURITE_KEY) if azurite else None,
        fidelity=fidelity,
    )
    try:
        serve_forever(config, host, port, announce=_announce)
    except StoreError as exc:
        raise UsageError(f"--data {data_dir}: {exc.message}", hint=exc.hint) from None


def _announce(url: str) -> None:
    click.echo(f"aimodels emulator listening on {url}")
    sys.stdout.flush()


COMMANDS = [emulator]
