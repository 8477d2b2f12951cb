"""The apply renderer: plain timestamped lines off a TTY, a live table on one, and the report."""

from __future__ import annotations

import io
import time

from apply_support import address

from aimodels.apply.events import ApplyEvent, ApplyResult, ChangeResult, Phase, Status
from aimodels.plan.values import Action
from aimodels.render.apply_progress import ApplyProgress, plain_line, render_report
from aimodels.service.applying import ApplyReport, DeploymentAccess

CHAT = address("ModelDeployment/chat")
AT = time.mktime((2026, 11, 25, 10, 2, 11, 0, 0, -1))


def event(phase: Phase, elapsed: float = 0.0, message: str = "", op: str = "create",
          at: float = AT) -> ApplyEvent:
    return ApplyEvent(CHAT, op, phase, at, elapsed, message)


def test_plain_lines_say_what_happens_with_time_and_elapsed() -> None:
    assert plain_line(event(Phase.STARTED)) == "10:02:11 ModelDeployment/chat: creating"
    assert plain_line(event(Phase.POLLING, 12.4)) == \
        "10:02:11 ModelDeployment/chat: creating (12 s)"
    assert plain_line(event(Phase.DONE, 35, op="delete")) == \
        "10:02:11 ModelDeployment/chat: deleted (35 s)"
    assert plain_line(event(Phase.FAILED, 3, "412: changed since the plan")) == \
        "10:02:11 ModelDeployment/chat: create failed: 412: changed since the plan"
    assert plain_line(event(Phase.SKIPPED, message="upstream ModelSource/hf failed")) == \
        "10:02:11 ModelDeployment/chat: skipped: upstream ModelSource/hf failed"


def test_off_a_terminal_each_event_is_one_line() -> None:
    stream = io.StringIO()
    with ApplyProgress(stream) as progress:
        progress(event(Phase.STARTED))
        progress(event(Phase.DONE, 2))
    assert stream.getvalue().splitlines() == [
        "10:02:11 ModelDeployment/chat: creating", "10:02:11 ModelDeployment/chat: created (2 s)"]


def test_the_live_table_shows_state_elapsed_and_why() -> None:
    stream = io.StringIO()
    progress = ApplyProgress(stream, live=True, clock=lambda: AT + 7)
    progress(event(Phase.STARTED))
    progress(ApplyEvent(address("FoundryDeployment/gpt"), "update", Phase.WAITING, AT, 1,
                        "another operation runs on the account; retrying in 2 s"))
    progress(ApplyEvent(address("ModelSource/hf"), "create", Phase.FAILED, AT, 1, "boom"))
    with ApplyProgress(stream, live=True, clock=lambda: AT + 7) as shown:
        shown(event(Phase.STARTED))
    text = render(progress)

    assert "ModelDeployment/chat" in text and "creating" in text and "7 s" in text
    assert "waiting" in text and "retrying in 2 s" in text
    assert "create failed" in text and "boom" in text
    assert "ModelDeployment/chat" in stream.getvalue()


def test_report_lists_outcomes_and_how_to_try_deployments() -> None:
    result = ApplyResult((ChangeResult(CHAT, Action.CREATE, Status.DONE),
                          ChangeResult(address("ModelSource/hf"), Action.CREATE, Status.FAILED,
                                       "boom"),
                          ChangeResult(address("ModelDeployment/other"), Action.CREATE,
                                       Status.SKIPPED, "upstream ModelSource/hf failed")))
    report = ApplyReport(result, (DeploymentAccess(CHAT, "http://x/v1", (
        "aimodels access default", 'aimodels chat chat "Hello"')),))

    assert render_report(report).splitlines() == [
        "Apply incomplete: 1 done, 1 failed, 1 skipped.",
        "Failed: ModelSource/hf",
        "Skipped (upstream failed): ModelDeployment/other",
        "",
        "ModelDeployment/chat: http://x/v1",
        "  try: aimodels access default",
        '  try: aimodels chat chat "Hello"',
    ]
    assert "boom" not in render_report(report)
    assert render_report(report, summary=False).startswith("Failed:")


def render(progress: ApplyProgress) -> str:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=160, no_color=True)
    console.print(progress.table())
    return console.file.getvalue()  # type: ignore[attr-defined]
