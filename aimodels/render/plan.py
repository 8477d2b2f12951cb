"""``render_plan``: one plan, three formats (``text``, ``json``, ``markdown``).

This is the function the CLI calls for ``plan --format`` and ``drift --format``; it writes
nothing and returns no trailing newline (``click.echo`` adds one). The CLI decides ``color``
(a TTY, no ``NO_COLOR``, no ``--no-color``); only the text format uses it. ``stack`` (the
Stack's name) goes into markdown's hidden marker, which CI jobs find their comment by.
"""

from __future__ import annotations

from collections.abc import Callable

from aimodels.errors import UsageError
from aimodels.plan.values import Plan
from aimodels.render.plan_json import render_json
from aimodels.render.plan_markdown import render_markdown
from aimodels.render.plan_text import render_text

#: The formats ``render_plan`` knows, in the order ``--format`` lists them.
PLAN_FORMATS = ("text", "json", "markdown")

_RENDERERS: dict[str, Callable[[Plan, bool, str], str]] = {
    "text": lambda plan, color, _stack: render_text(plan, color=color),
    "json": lambda plan, _color, _stack: render_json(plan),
    "markdown": lambda plan, _color, stack: render_markdown(plan, stack=stack),
}


def render_plan(plan: Plan, fmt: str, *, color: bool = False, stack: str = "") -> str:
    """The plan rendered as ``fmt``; an unknown format is a usage error (exit 64)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise UsageError(f"unknown plan format {fmt!r}",
                         hint=f"use one of {', '.join(PLAN_FORMATS)}")
    return renderer(plan, color, stack)
