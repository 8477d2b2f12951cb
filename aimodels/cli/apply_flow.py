"""The terminal side of ``apply`` and ``destroy``: show the plan, ask, show progress, report.

Stages as pyinfra's CLI runs them: lock and plan → show → stop if nothing to do → confirm →
execute → results. The service (``service.applying``) does the work; this module decides what
the terminal sees and which exit code the run ends with.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from aimodels.cli.output import progress_note, show_warnings, use_color
from aimodels.errors import EXIT_OK, AimodelsError, ApplyIncomplete, UsageError
from aimodels.plan.values import Plan
from aimodels.service.applying import ApplyRequest, ApplySession
from aimodels.service.planning import PlanOutcome


def run_change(obj: Any, request: ApplyRequest, plan_file: str | None = None,
               yes: bool = False) -> int:
    """Plan (or read the saved plan), confirm, apply; returns the exit code or raises."""
    if plan_file and request.targets:
        raise UsageError("--target cannot be combined with a saved plan",
                         hint="A saved plan is applied exactly; plan again with --target.")
    with ApplySession.open(request) as session:
        with progress_note("Reading live state and planning", obj):
            for line in session.recover():
                click.echo(line, err=True)
            outcome = _plan(session, request, plan_file)
        plan = outcome.plan
        if not _show(obj, outcome):
            return EXIT_OK
        if plan_file is None:
            _confirm(yes, request.destroying)
        report = _execute(obj, session, plan)
    from aimodels.render.apply_progress import render_report

    verb = "Destroy" if request.destroying else "Apply"
    if report.result.complete:
        click.echo(render_report(report, verb=verb))
        return EXIT_OK
    details = render_report(report, summary=False)
    if details:
        click.echo(details)
    raise ApplyIncomplete(report.result.summary(verb), result=report.result, hint=(
        "Fix what failed (the messages above) and run the command again: what was done is "
        "in the state, so only the rest is planned."))


def _plan(session: ApplySession, request: ApplyRequest, plan_file: str | None) -> PlanOutcome:
    if plan_file:
        return session.saved_plan(plan_file)
    return session.destroy_plan() if request.destroying else session.plan()


def _show(obj: Any, outcome: PlanOutcome) -> bool:
    """Print the plan; False when there is nothing to do. An errored plan is refused."""
    from aimodels.render.plan import render_plan

    show_warnings(outcome.warnings)
    plan = outcome.plan
    if not plan.errored and not plan.summary().has_changes:
        click.echo("No changes.")
        return False
    click.echo(render_plan(plan, "text", color=use_color(obj)))
    if plan.errored:
        raise AimodelsError("The plan has errors, so nothing was applied",
                            hint="Fix the errors shown above and run the command again.")
    return True


def _confirm(yes: bool, destroying: bool) -> None:
    """Ask before changing anything, unless ``--yes``; refuse to guess without a terminal."""
    if yes:
        return
    verb = "destroy" if destroying else "apply"
    if not sys.stdin.isatty():
        raise UsageError(f"`{verb}` asks for confirmation, and stdin is not a terminal",
                         hint="Pass --yes to go ahead without asking (as in CI).")
    question = "Do you really want to destroy these resources?" if destroying else \
        "Do you want to perform these actions?"
    answer = click.prompt(f"\n{question} Only 'yes' will be accepted", default="",
                          show_default=False)
    if answer.strip() != "yes":
        raise AimodelsError(f"{verb.capitalize()} cancelled; nothing was changed")


def _execute(obj: Any, session: ApplySession, plan: Plan) -> Any:
    from aimodels.render.apply_progress import ApplyProgress

    click.echo("")
    with ApplyProgress(sys.stdout, color=use_color(obj)) as progress:
        return session.apply(plan, progress)
