"""The debug log: what a person may need after a failure but should not see on the terminal.

A command writes one (``aimodels-debug-*.log`` in the temporary folder) only when it fails:
with the traceback of an internal error (exit 70), and with what azure-identity and azure-core
logged. Those libraries log a dozen lines per credential they tried when none works; on the
terminal that dump came before our one-line error and buried it. They log to the ``azure``
logger, which we keep off the terminal (``-vv`` shows it) and hold here in memory until the
command ends. Everything written passes through ``redact_text``, known secrets included.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
from collections import deque

from aimodels import __version__
from aimodels.transport.redact import redact_text

#: The loggers of the Azure SDK libraries below us (azure.identity, azure.core, azure.storage).
LIBRARY_LOGGER = "azure"

#: How many library lines a command keeps (the last ones matter most).
KEPT_LINES = 500


class LibraryLines(logging.Handler):
    """Keeps the redacted lines the Azure SDK libraries logged during this command."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(redact_text(self.format(record)))


_LINES = LibraryLines()


def capture_library_logs(echo: logging.Handler, show: bool) -> None:
    """Route the ``azure`` loggers here, never to the terminal through Python's last-resort
    handler; with ``show`` (``-vv``) to ``echo`` (our stderr handler) as well. Idempotent."""
    target = logging.getLogger(LIBRARY_LOGGER)
    target.propagate = False
    if _LINES not in target.handlers:
        target.addHandler(_LINES)
    if show and echo not in target.handlers:
        target.addHandler(echo)
    elif not show and echo in target.handlers:
        target.removeHandler(echo)


def start_command() -> None:
    """Forget the library lines of an earlier command run in this process (tests run many)."""
    _LINES.lines.clear()


def has_library_lines() -> bool:
    """Whether the libraries logged anything worth a debug log in this command."""
    return bool(_LINES.lines)


def write_debug_log(argv: list[str], error: BaseException | None = None) -> str:
    """Write the debug log (header, library lines, the traceback of ``error`` if given) and
    return its path."""
    fd, path = tempfile.mkstemp(prefix="aimodels-debug-", suffix=".log")
    parts = [f"aimodels {__version__}, python {sys.version.split()[0]}\n",
             f"argv: {argv}\n\n"]
    if _LINES.lines:
        parts += ["Logged by the Azure SDK libraries:\n", *(f"  {line}\n" for line in _LINES.lines),
                  "\n"]
    if error is not None:
        parts += traceback.format_exception(error)
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(redact_text("".join(parts)))
    return path
