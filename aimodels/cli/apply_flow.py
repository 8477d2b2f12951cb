"""The terminal side of ``apply`` and ``destroy``: show the plan, ask, show progress, report.

Stages as pyinfra's CLI runs them: lock, reconcile what an interrupted run left, and plan →
show → stop if nothing to do → confirm → execute → results. The service
(``service.applying``) does the work; this module decides what the terminal sees and which
exit code the run ends with. A Ctrl-C during execute is reported with what was done, what was
not started and what is left in flight for the next apply (exit 7).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from aimodels.apply.events import ApplyResult, Interruption
from aimodels.cli.output import confirm, progress_note, show_warnings, use_color
from aimodels.errors import EXIT_OK, AimodelsError, ApplyIncomplete, ApplyRefused, UsageError
from aimodels.plan.values import Plan
from aimodels.service.applying import ApplyReport, ApplyRequest, ApplySession
from aimodels.service.planning import PlanOutcome

if TYPE_CHECKING:
    from aimodels.cli.main import Context


def run_change(obj: Context, request: ApplyRequest, plan_file: str | None = None,
               yes: bool = False) -> int:
    """Plan (or read the saved plan), confirm, apply; returns the exit code or raises."""
    if plan_file and request.targets:
        raise UsageError("--target cannot be combined with a saved plan",
                         hint="A saved plan is applied exactly; plan again with --target.")
    with ApplySession.open(request) as session:
        with progress_note("Reading live state and planning", obj):
            _recover(session)
            outcome = _plan(session, request, plan_file)
        plan = outcome.plan
        if not _show(obj, outcome):
            return EXIT_OK
        if plan_file is None:
            _confirm(yes, request.destroying)
        try:
            return _report(_execute(obj, session, plan), request)
        except KeyboardInterrupt:  # a second Ctrl-C, during the stop or after it
            raise ApplyIncomplete("Interrupted again: stopped at once", hint=(
                "What completed is in the state and what was in flight is in the journal: the "
                "next `aimodels apply` reconciles it before planning.")) from None


def _report(report: ApplyReport, request: ApplyRequest) -> int:
    """The report of a run: exit 0 when complete, else ApplyIncomplete (exit 7), or
    ApplyRefused (exit 6) when only changes refused as changed since the plan are left."""
    from aimodels.render.apply_progress import render_report

    verb = "Destroy" if request.destroying else "Apply"
    if report.result.complete:
        click.echo(render_report(report, verb=verb))
        return EXIT_OK
    details = "\n".join(filter(None, (render_report(report, summary=False),
                                      _interrupted_lines(report.result))))
    if details:
        click.echo(details)
    result = report.result
    if result.refused:
        raise ApplyRefused(result.summary(verb), result=result, hint=(
            "What was done is in the state. Run the command again: it plans against the "
            "resources as they are now (`aimodels plan` shows what changed)."))
    raise ApplyIncomplete(result.summary(verb), result=result,
                          hint=_INTERRUPTED_HINT if result.interrupted or not result.failed
                          else ("Fix what failed (the messages above) and run the command "
                                "again: what was done is in the state, so only the rest is "
                                "planned."))


_INTERRUPTED_HINT = ("What was done is in the state. Run the command again: it first settles "
                     "what was in flight (re-attaching to operations still running in Azure), "
                     "then plans only the rest.")


def _recover(session: ApplySession) -> None:
    """Settle what an interrupted run left open, before planning, saying so on stderr."""
    pending = session.pending()
    if not pending:
        return
    click.echo(f"An earlier apply was interrupted: reconciling the {pending} operation(s) it "
               "left open before planning.", err=True)
    for line in session.recover():
        click.echo(line, err=True)


def _interrupted_lines(result: ApplyResult) -> str:
    """After a Ctrl-C or an operation that outlasted its deadline: which changes were not
    started and which are left in flight."""
    groups = (("Not started", result.not_started),
              ("In flight (in the journal; the next apply reconciles them)", result.in_flight))
    return "\n".join(f"{title}: " + ", ".join(str(c.address) for c in changes)
                     for title, changes in groups if changes)


def _plan(session: ApplySession, request: ApplyRequest, plan_file: str | None) -> PlanOutcome:
    if plan_file:
        return session.saved_plan(plan_file)
    return session.destroy_plan() if request.destroying else session.plan()


def _show(obj: Context, outcome: PlanOutcome) -> bool:
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
    verb = "destroy" if destroying else "apply"
    question = "Do you really want to destroy these resources?" if destroying else \
        "Do you want to perform these actions?"
    confirm(yes, verb, question, f"{verb.capitalize()} cancelled; nothing was changed")


def _execute(obj: Context, session: ApplySession, plan: Plan) -> ApplyReport:
    """Apply with progress. The first Ctrl-C is a graceful stop, said on stderr; a second one
    raises KeyboardInterrupt at once (the state and the journal have what the next apply
    needs)."""
    from aimodels.render.apply_progress import ApplyProgress

    def on_stop(interruption: Interruption) -> None:
        click.echo(interruption.describe(), err=True)

    click.echo("")
    with ApplyProgress(sys.stdout, color=use_color(obj)) as progress:
        return session.apply(plan, progress, on_stop)
