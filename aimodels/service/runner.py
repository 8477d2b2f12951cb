"""``run``: ``asyncio.run`` for a command's coroutine whose result is large."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, its result handed back outside the main task.

    On its way out ``asyncio.run`` asks ``signal.getsignal(SIGINT)`` whether its handler is
    still installed; the handler holds the main task, and turning it into a ``Handlers`` enum
    fails with a message that formats its repr, so the repr of the task's result: every change
    of a 1,000-resource plan, about 0.1 s of CPU for nothing. The task here returns None.
    """
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]
