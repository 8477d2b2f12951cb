"""``aimodels emulator serve``: the local Azure emulator as a standalone HTTP server."""

from __future__ import annotations

import click



@click.group()
def emulator() -> None:
    """The local Azure emulator (ARM, registry, blob, inference at one origin)."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="0 picks a free port.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False),
              help="Keep state in SQLite under DIR (a restart keeps everything). Default: memory.")
@click.option("--latency-ms", type=click.IntRange(0, 60000), default=0, show_default=True)
@click.option("--lro-seconds", type=click.FloatRange(0, 3600), default=2.0, show_default=True,
              help="How long a long-running operation takes.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered 500/503.")
@click.option("--throttle-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered 429 with Retry-After.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for faults and keys.")
@click.option("--fixtures", type=click.Path(dir_okay=False, exists=True),
              help="Catalog, quota and price fixtures to use instead of the built-in ones.")
@click.option("--azurite", metavar="ACCOUNT_URL",
              help="Hand out SAS URIs for this external Azurite account URL instead of our own "
              "blob endpoint (the well-known devstoreaccount1 key is used).")
def serve(host: str, port: int, data_dir: str | None, latency_ms: int, lro_seconds: float,
          fault_rate: float, throttle_rate: float, seed: int, fixtures: str | None,
          azurite: str | None) -> None:
    """Serve the emulator until SIGINT/SIGTERM.

    The first line on stdout is `aimodels emulator listening on http://HOST:PORT`; point
    aimodels at it with AIMODELS_ENDPOINT=http://HOST:PORT.
    """
    from pathlib import Path

    from aimodels.emulator.config import EmulatorConfig
    from aimodels.emulator.server import serve_forever

    config = EmulatorConfig(
        lro_seconds=lro_seconds, latency_ms=latency_ms, fault_rate=fault_rate,
        throttle_rate=throttle_rate, seed=seed,
        data_dir=Path(data_dir) if data_dir else None,
        fixtures_path=Path(fixtures) if fixtures else None,
        external_blob=(azurite, AZURITE_ACCOUNT, AZURITE_KEY) if azurite else None,
    )
    serve_forever(config, host, port, announce=_announce)


#: Azurite's well-known development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _announce(url: str) -> None:
    click.echo(f"aimodels emulator listening on {url}")
    import sys

    sys.stdout.flush()


COMMANDS = [emulator]
