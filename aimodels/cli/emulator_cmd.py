"""``aimodels emulator serve``: the local Azure emulator as a standalone HTTP server."""

from __future__ import annotations

import click

from aimodels.errors import NotImplementedYet


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
def serve(**options: object) -> None:
    """Serve the emulator until SIGINT/SIGTERM."""
    raise NotImplementedYet("`aimodels emulator serve` is not implemented yet")


COMMANDS = [emulator]
