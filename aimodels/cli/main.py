"""The ``aimodels`` command group and the process boundary: exceptions in, exit codes out.

This is the only place with a catch-all ``except Exception``. Known errors (``AimodelsError``)
print a one-line summary, their diagnostics and a hint; click's usage errors exit 64 (never 2,
which the spec reserves for "changes present"); anything else is a bug: one line on stderr, the
traceback in a debug log, exit 70.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, NoReturn

import click

from aimodels import __version__
from aimodels.cli import commands
from aimodels.errors import EXIT_ERROR, EXIT_INTERNAL, EXIT_USAGE, AimodelsError


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


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines to whatever ``sys.stderr`` is when a record is emitted (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _configure_logging(verbose: int) -> None:
    """``-v``: aimodels' info lines on stderr; ``-vv``: also every HTTP call, redacted by the
    transport (method, URL, status, timing, headers with credentials replaced; never bodies)."""
    logger = logging.getLogger("aimodels")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger.setLevel(level)
    # The handler filters too: a child logger set lower elsewhere (a library, a test's log
    # capture) must not make stderr chattier than -v asked for.
    handler.setLevel(level)


commands.register(cli)


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with the spec's exit code, whatever happens inside."""
    try:
        result = cli.main(args=argv, prog_name="aimodels", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        _print_usage_error(exc)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except AimodelsError as exc:
        from aimodels.render.diagnostics import print_error

        print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        # `aimodels plan | head`: the reader went away; that is not our failure.
        sys.stderr.close()
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # the only catch-all: sort bugs from user errors
        _report_bug(exc)
        sys.exit(EXIT_INTERNAL)
    sys.exit(result if isinstance(result, int) else 0)


def _print_usage_error(exc: click.exceptions.UsageError) -> None:
    if exc.ctx is not None:
        click.echo(exc.ctx.get_usage(), err=True)
        click.echo(f"Try '{exc.ctx.command_path} --help' for help.\n", err=True)
    click.echo(f"error: {exc.format_message()}", err=True)


def _report_bug(exc: BaseException) -> None:
    """Write the traceback to a debug log and print one line pointing at it."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="aimodels-debug-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(f"aimodels {__version__}, python {sys.version.split()[0]}\n")
        log.write(f"argv: {_redacted_argv()}\n\n")
        traceback.print_exception(exc, file=log)
    click.echo(
        f"internal error: {type(exc).__name__}: {exc}. This is a bug in aimodels; the traceback "
        f"is in {path}. Please report it with that file.",
        err=True,
    )


def _redacted_argv() -> list[Any]:
    # Arguments never carry secrets by design, but a prompt for `chat` may be private: keep it out.
    args = list(sys.argv)
    if "chat" in args:
        args = args[: args.index("chat") + 2] + ["<redacted>"]
    return args
