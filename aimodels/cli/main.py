"""The ``aimodels`` command group and the process boundary: exceptions in, exit codes out.

This is the only place with a catch-all ``except Exception``. Known errors (``AimodelsError``)
print a one-line summary, their diagnostics and a hint; click's usage errors exit 64 (never 2,
which the spec reserves for "changes present"); anything else is a bug: one line on stderr, the
traceback in a debug log, exit 70. What the Azure SDK libraries log goes to that debug log too,
written when a command fails (``cli/debuglog.py``).

A command runs with stdout and stderr behind ``output.scrubbed_terminal``, and with an empty
registry of known secrets at its start (``transport.redact``): whatever secret value it learns
is replaced in everything it prints.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn, TextIO

import click

from aimodels import __version__
from aimodels.cli import commands, debuglog
from aimodels.cli.output import scrubbed_terminal
from aimodels.errors import EXIT_ERROR, EXIT_INTERNAL, EXIT_USAGE, AimodelsError
from aimodels.transport.redact import forget_secrets


class Context:
    """Options every command shares, set by the top-level group."""

    def __init__(self, endpoint: str | None, no_color: bool, verbose: int) -> None:
        self.endpoint = endpoint
        self.no_color = no_color or bool(os.environ.get("NO_COLOR"))
        self.verbose = verbose


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="aimodels")
@click.option(
    "--endpoint",
    envvar="AIMODELS_ENDPOINT",
    metavar="URL",
    help="Call every API (ARM, registry, blob, inference) at this origin, e.g. an "
    "`aimodels emulator serve`. Also AIMODELS_ENDPOINT.",
)
@click.option("--no-color", is_flag=True, help="No colour in output (also NO_COLOR).")
@click.option("-v", "--verbose", count=True, help="More detail on stderr; -vv logs HTTP calls.")
@click.pass_context
def cli(ctx: click.Context, endpoint: str | None, no_color: bool, verbose: int) -> None:
    """Declarative infrastructure-as-code for Azure AI models.

    Keep YAML manifests for ModelSource, CustomModel, ModelDeployment and FoundryDeployment in
    your repo; `plan` shows what would change, `apply` makes it so.
    """
    ctx.obj = Context(endpoint, no_color, verbose)
    _configure_logging(verbose)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Log lines to whatever ``sys.stderr`` is when a record is emitted (tests swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _LineFormatter(logging.Formatter):
    """``warning: ...`` for our warnings, like every other warning we print; the time and the
    logger's name for the ``-v`` detail lines and for the libraries' lines under ``-vv``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING and record.name.startswith("aimodels"):
            return f"{record.levelname.lower()}: {record.getMessage()}"
        return super().format(record)


def _configure_logging(verbose: int) -> None:
    """``-v``: aimodels' info lines on stderr; ``-vv``: also every HTTP call, redacted by the
    transport (method, URL, status, timing, headers with credentials replaced; never bodies),
    and what the Azure SDK libraries log (otherwise kept for the debug log only)."""
    logger = logging.getLogger("aimodels")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(_LineFormatter())
        logger.addHandler(handler)
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger.setLevel(level)
    # The handler filters too: a child logger set lower elsewhere (a library, a test's log
    # capture) must not make stderr chattier than -v asked for.
    handler.setLevel(level)
    debuglog.capture_library_logs(handler, show=verbose >= 2)


commands.register(cli)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with the spec's exit code, whatever happens inside: one command,
    with no secret known at its start and none of those it learns printed."""
    forget_secrets()
    debuglog.start_command()
    with scrubbed_terminal():
        code = _run(argv)
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    """Run one command; the exit code of its result or of what it raised."""
    try:
        result = cli.main(args=argv, prog_name="aimodels", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        _print_usage_error(exc)
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_ERROR
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except AimodelsError as exc:
        from aimodels.render.diagnostics import print_error

        print_error(exc)
        _point_at_library_lines()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        # `aimodels plan | head`: the reader went away; that is not our failure.
        sys.stderr.close()
        return EXIT_ERROR
    except Exception as exc:  # the only catch-all: sort bugs from user errors
        _report_bug(exc)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def _print_usage_error(exc: click.exceptions.UsageError) -> None:
    if exc.ctx is not None:
        click.echo(exc.ctx.get_usage(), err=True)
        click.echo(f"Try '{exc.ctx.command_path} --help' for help.\n", err=True)
    click.echo(f"error: {exc.format_message()}", err=True)


def _report_bug(exc: BaseException) -> None:
    """Write the traceback to a debug log and print one line pointing at it."""
    path = debuglog.write_debug_log(_redacted_argv(), exc)
    click.echo(
        f"internal error: {type(exc).__name__}: {exc}. This is a bug in aimodels; the traceback "
        f"is in {path}. Please report it with that file.",
        err=True,
    )


def _point_at_library_lines() -> None:
    """After a known error: what azure-identity or azure-core logged goes to a debug log, and
    one line says where (the libraries' own dump would bury our message)."""
    if debuglog.has_library_lines():
        path = debuglog.write_debug_log(_redacted_argv())
        click.echo(f"details: what the Azure SDK logged is in {path}", err=True)


def _redacted_argv() -> list[Any]:
    # Arguments never carry secrets by design, but a prompt for `chat` may be private: keep it out.
    args = list(sys.argv)
    if "chat" in args:
        args = args[: args.index("chat") + 2] + ["<redacted>"]
    return args
