"""The example workflows' shell steps, run as a GitHub runner runs them, against the emulator.

Each flow of docs/ci.md end to end, with the steps that are actions (checkout, artifacts, the PR
comment) done by hand with files: the pull request's plan and its check, the merge that applies
the reviewed plan (and the stale one refused, planned again and applied by a second run), the
apply verdict for every exit code, finding the reviewed plan's run, and the scheduled drift job
that opens, updates and closes one issue (through a fake ``gh``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import fake_gh
import pytest
from workflow_support import Runner, StepRun, action_step, workflow_step

PLAN = action_step("aimodels-plan", "plan")
PLAN_CHECK = workflow_step("aimodels-plan.yml", "plan", "Check")
FIND = workflow_step("aimodels-apply.yml", "apply", "Find the reviewed plan")
APPLY = workflow_step("aimodels-apply.yml", "apply", "Apply the reviewed plan")
VERDICT = workflow_step("aimodels-apply.yml", "apply", "Verdict")
DRIFT = workflow_step("aimodels-drift.yml", "drift", "aimodels drift")
DRIFT_CHECK = workflow_step("aimodels-drift.yml", "drift", "Check")
ISSUE = workflow_step("aimodels-drift.yml", "issue", "Open, update or close the drift issue")

PLAN_MARKER = "<!-- aimodels-plan stack=quickstart -->"
DRIFT_MARKER = "<!-- aimodels-drift stack=quickstart -->"
TOKEN = {"github.token": "fake-token"}
MakeRunner = Callable[..., Runner]


def plan(runner: Runner) -> StepRun:
    """The plan step (the aimodels-plan composite action) on infra/; it never fails itself."""
    planned = runner.run(PLAN, {"inputs.dir": "infra"})
    assert planned.code == 0, planned.err
    return planned


def download(planned: StepRun, runner: Runner) -> None:
    """What upload-artifact in one job and download-artifact in another do with the plan."""
    shutil.copytree(planned.outputs["files"], runner.temp / "runner" / "reviewed-plan")


def apply(runner: Runner) -> StepRun:
    applied = runner.run(APPLY)
    assert applied.code == 0, applied.err
    return applied


def set_capacity(workspace: Path, old: int, new: int) -> None:
    manifest = workspace / "infra" / "foundry-deployment.yaml"
    text = manifest.read_text()
    assert text.count(f"capacity: {old} ") == 1
    manifest.write_text(text.replace(f"capacity: {old} ", f"capacity: {new} "))


# --- pull request ---------------------------------------------------------------------------------


def test_the_pull_request_plan_saves_the_plan_and_a_comment_with_its_marker(
        make_runner: MakeRunner) -> None:
    pr = make_runner("pr")
    planned = plan(pr)
    assert planned.outputs["exit-code"] == "2"
    assert planned.outputs["marker"] == PLAN_MARKER
    files = Path(planned.outputs["files"])
    assert (files / "plan.bin").is_file()
    comment = (files / "plan.md").read_text()
    assert comment.startswith("## aimodels plan: 4 to create, 0 to update, 0 to replace, ")
    assert comment.endswith(f"\n\n{PLAN_MARKER}\n")
    assert planned.summary == comment
    assert pr.run(PLAN_CHECK, {"steps.plan.outputs.exit-code": "2"}).code == 0


def test_a_plan_with_errors_is_still_commented_and_fails_the_check(
        make_runner: MakeRunner, workspace: Path) -> None:
    set_capacity(workspace, 10, 5000)  # over the quota (450): a pre-flight error
    pr = make_runner("pr")
    planned = plan(pr)
    assert planned.outputs["exit-code"] == "1"
    assert planned.outputs["marker"] == PLAN_MARKER
    files = Path(planned.outputs["files"])
    assert not (files / "plan.bin").exists()  # nothing a merge could apply
    assert "**This plan cannot be applied: 1 error.**" in (files / "plan.md").read_text()
    check = pr.run(PLAN_CHECK, {"steps.plan.outputs.exit-code": "1"})
    assert check.code == 1
    assert "::error::The plan has errors" in check.out


def test_invalid_manifests_give_no_comment_and_fail_the_check(
        make_runner: MakeRunner, workspace: Path) -> None:
    (workspace / "infra" / "broken.yaml").write_text(
        "apiVersion: aimodels/v1\nkind: ModelSource\nmetadata: {name: Bad_Name}\nspec: {}\n")
    pr = make_runner("pr")
    planned = plan(pr)
    assert planned.outputs["exit-code"] == "3"
    assert "marker" not in planned.outputs  # so the comment job does not run
    assert "broken.yaml" in planned.err
    check = pr.run(PLAN_CHECK, {"steps.plan.outputs.exit-code": "3"})
    assert check.code == 1
    assert "::error::aimodels plan failed with exit code 3" in check.out


@pytest.mark.parametrize(("code", "passes"), [
    ("0", True), ("2", True), ("1", False), ("3", False), ("4", False), ("5", False),
    ("64", False), ("70", False), ("", False)])
def test_the_plan_exit_code_decides_the_check(make_runner: MakeRunner, code: str,
                                              passes: bool) -> None:
    check = make_runner("pr").run(PLAN_CHECK, {"steps.plan.outputs.exit-code": code})
    assert (check.code == 0) is passes
    assert ("::error::" in check.out) is not passes


# --- merge to main --------------------------------------------------------------------------------


def verdict(runner: Runner, apply_exit: str, replan_exit: str, given: str = "") -> StepRun:
    return runner.run(VERDICT, {"inputs.plan-run-id": given,
                                "steps.apply.outputs.exit-code": apply_exit,
                                "steps.replan.outputs.exit-code": replan_exit})


def test_a_merge_applies_the_reviewed_plan_and_the_new_plan_shows_no_changes(
        make_runner: MakeRunner) -> None:
    reviewed = plan(make_runner("pr"))
    main = make_runner("main", GITHUB_EVENT_NAME="push")
    download(reviewed, main)
    assert apply(main).outputs["exit-code"] == "0"
    again = plan(main)
    assert again.outputs["exit-code"] == "0"
    done = verdict(main, "0", "0")
    assert done.code == 0
    assert "Applied: Azure matches" in done.out


def test_a_stale_plan_is_refused_then_the_new_plan_is_applied_by_a_second_run(
        make_runner: MakeRunner, workspace: Path) -> None:
    reviewed = plan(make_runner("pr"))
    set_capacity(workspace, 10, 20)  # another pull request merged first
    main = make_runner("main", GITHUB_EVENT_NAME="push", GITHUB_RUN_ID="2001")
    download(reviewed, main)
    refused = apply(main)
    assert refused.outputs["exit-code"] == "6"
    assert "The saved plan is stale" in refused.err
    again = plan(main)
    assert again.outputs["exit-code"] == "2"
    assert "capacity" in (Path(again.outputs["files"]) / "plan.md").read_text()
    stopped = verdict(main, "6", "2")
    assert stopped.code == 1
    assert "::error::Nothing was applied: the reviewed plan was refused (exit 6)" in stopped.out
    assert "gh workflow run aimodels-apply.yml -f plan-run-id=2001" in stopped.out
    # Nothing was applied: a fresh plan still creates all four.
    assert "4 to create" in (Path(again.outputs["files"]) / "plan.md").read_text()

    # A person reviewed run 2001's plan and dispatched the workflow with its id.
    dispatched = make_runner("dispatch", GITHUB_EVENT_NAME="workflow_dispatch")
    download(again, dispatched)
    assert apply(dispatched).outputs["exit-code"] == "0"
    assert plan(dispatched).outputs["exit-code"] == "0"
    assert verdict(dispatched, "0", "0", given="2001").code == 0


@pytest.mark.parametrize(("apply_exit", "replan_exit", "event", "given", "code", "says"), [
    ("0", "0", "push", "", 0, "Applied: Azure matches"),
    ("0", "2", "push", "", 1, "::error::Applied, but a new plan still shows changes"),
    ("6", "2", "push", "", 1, "refused (exit 6)"),
    ("6", "0", "workflow_dispatch", "7", 1, "refused (exit 6)"),
    ("7", "2", "push", "", 1, "::error::The apply is incomplete (exit 7)"),
    ("1", "2", "push", "", 1, "::error::aimodels apply failed with exit code 1"),
    ("4", "4", "push", "", 1, "::error::Planning again failed with exit code 4"),
    ("", "", "push", "", 1, "::error::Planning again failed with exit code none"),
    ("", "0", "push", "", 0, "Nothing to apply: Azure matches"),
    ("", "2", "push", "", 1, "::error::Nothing was applied: there is no reviewed plan"),
    ("", "2", "workflow_dispatch", "", 0, "::notice::Plan saved."),
    ("", "2", "workflow_dispatch", "7", 1, "there is no reviewed plan"),
], ids=["applied", "changes-remain", "stale", "stale-dispatched", "incomplete", "apply-error",
        "replan-error", "no-replan", "nothing-to-do", "no-reviewed-plan", "plan-only",
        "artifact-gone"])
def test_the_verdict_for_each_outcome(make_runner: MakeRunner, apply_exit: str,
                                      replan_exit: str, event: str, given: str, code: int,
                                      says: str) -> None:
    done = verdict(make_runner("main", GITHUB_EVENT_NAME=event), apply_exit, replan_exit, given)
    assert done.code == code, done.out + done.err
    assert says in done.out
    if code and replan_exit in ("0", "2"):  # a new plan was saved: say how to apply it
        assert "gh workflow run aimodels-apply.yml -f plan-run-id=1000" in done.out


# --- finding the reviewed plan --------------------------------------------------------------------

MERGED = "a" * 40


def plan_run(run_id: int, branch: str, conclusion: str = "success") -> dict[str, object]:
    return {"databaseId": run_id, "workflow": "aimodels-plan.yml", "headBranch": branch,
            "event": "pull_request", "conclusion": conclusion}


def find(make_runner: MakeRunner, tmp_path: Path, event: str, given: str = "",
         ) -> tuple[StepRun, dict[str, object]]:
    store = tmp_path / "gh.json"
    gh = fake_gh.install(tmp_path / "gh-bin", store, pulls={MERGED: [
        {"merge_commit_sha": "b" * 40, "head": {"ref": "older-pr"}},
        {"merge_commit_sha": MERGED, "head": {"ref": "add-gpt4o"}}]}, runs=[
        plan_run(7, "add-gpt4o"), plan_run(9, "add-gpt4o", "failure"),
        plan_run(8, "older-pr"), plan_run(5, "add-gpt4o")])
    runner = make_runner("find", path=(gh,), GITHUB_EVENT_NAME=event, GITHUB_SHA=MERGED)
    found = runner.run(FIND, {**TOKEN, "inputs.plan-run-id": given})
    assert found.code == 0, found.err
    return found, fake_gh.read(store)


def test_a_merge_finds_the_newest_successful_plan_of_the_pull_request_it_merged(
        make_runner: MakeRunner, tmp_path: Path) -> None:
    found, repository = find(make_runner, tmp_path, "push")
    assert found.outputs["run-id"] == "7"
    assert repository["calls"][0] == [
        "api", f"repos/example-org/infra-repo/commits/{MERGED}/pulls"]


def test_a_push_that_merged_no_pull_request_has_no_reviewed_plan(
        make_runner: MakeRunner, tmp_path: Path) -> None:
    store = tmp_path / "gh.json"
    gh = fake_gh.install(tmp_path / "gh-bin", store, runs=[plan_run(7, "main")])
    runner = make_runner("find", path=(gh,), GITHUB_EVENT_NAME="push")
    found = runner.run(FIND, {**TOKEN, "inputs.plan-run-id": ""})
    assert found.code == 0, found.err
    assert found.outputs["run-id"] == ""
    assert "Reviewed plan: none" in found.out


def test_a_dispatch_applies_the_run_it_names_without_asking_github(
        make_runner: MakeRunner, tmp_path: Path) -> None:
    found, repository = find(make_runner, tmp_path, "workflow_dispatch", given="2001")
    assert found.outputs["run-id"] == "2001"
    assert repository["calls"] == []


# --- schedule: drift ------------------------------------------------------------------------------


def drift_and_report(runner: Runner, workspace: Path) -> tuple[StepRun, StepRun]:
    """The drift job (drift, check), the report handed over as an artifact, then the issue job."""
    found = runner.run(DRIFT)
    assert found.code == 0, found.err
    exit_code = found.outputs["exit-code"]
    check = runner.run(DRIFT_CHECK, {"steps.drift.outputs.exit-code": exit_code})
    assert check.code == 0, check.out
    report = workspace / "aimodels-drift"
    report.mkdir(exist_ok=True)
    shutil.copy(runner.temp / "runner" / "aimodels-drift" / "drift.md", report / "drift.md")
    issue = runner.run(ISSUE, {**TOKEN, "github.repository": "example-org/infra-repo",
                               "needs.drift.outputs.exit-code": exit_code,
                               "needs.drift.outputs.marker": found.outputs["marker"]})
    assert issue.code == 0, issue.err
    return found, issue


def test_drift_opens_one_issue_updates_it_and_closes_it_when_drift_clears(
        make_runner: MakeRunner, workspace: Path, tmp_path: Path) -> None:
    store = tmp_path / "gh.json"
    other_stack = {"number": 1, "title": "aimodels: drift in Stack other", "state": "open",
                   "labels": ["aimodels-drift"], "comments": [],
                   "body": "### aimodels drift\n\n<!-- aimodels-drift stack=other -->"}
    gh = fake_gh.install(tmp_path / "gh-bin", store, issues=[other_stack],
                         labels=["aimodels-drift"])
    runner = make_runner("cron", path=(gh,), GITHUB_EVENT_NAME="schedule",
                         GITHUB_RUN_ID="3001")
    download(plan(runner), runner)
    apply(runner)

    found, issue = drift_and_report(runner, workspace)
    assert (found.outputs["exit-code"], found.outputs["marker"]) == ("0", DRIFT_MARKER)
    assert "No drift, and no drift issue open." in issue.out
    assert len(fake_gh.read(store)["issues"]) == 1

    set_capacity(workspace, 10, 20)  # drift: a manifest change not applied
    found, _ = drift_and_report(runner, workspace)
    assert found.outputs["exit-code"] == "2"
    opened = fake_gh.read(store)["issues"][1]
    assert (opened["title"], opened["state"], opened["labels"]) == (
        "aimodels: drift in Stack quickstart", "open", ["aimodels-drift"])
    assert DRIFT_MARKER in opened["body"]
    assert "! spec.sku.capacity: 10 -> 20" in opened["body"]
    assert "_Last found by [run 3001](https://github.com/example-org/infra-repo/actions/runs/" \
           "3001)._" in opened["body"]

    set_capacity(workspace, 20, 30)  # still drifting, differently: the same issue, updated
    drift_and_report(runner, workspace)
    issues = fake_gh.read(store)["issues"]
    assert len(issues) == 2
    assert "! spec.sku.capacity: 10 -> 30" in issues[1]["body"]
    assert "10 -> 20" not in issues[1]["body"]

    set_capacity(workspace, 30, 10)  # cleared
    found, issue = drift_and_report(runner, workspace)
    assert found.outputs["exit-code"] == "0"
    issues = fake_gh.read(store)["issues"]
    assert issues[1]["state"] == "closed"
    assert issues[1]["comments"] == [
        "Drift cleared: aimodels drift found nothing in "
        "[run 3001](https://github.com/example-org/infra-repo/actions/runs/3001)."]
    assert issues[0]["state"] == "open"  # another Stack's issue is left alone


def test_the_first_drift_issue_creates_its_label(make_runner: MakeRunner, workspace: Path,
                                                 tmp_path: Path) -> None:
    store = tmp_path / "gh.json"
    gh = fake_gh.install(tmp_path / "gh-bin", store)
    runner = make_runner("cron", path=(gh,), GITHUB_EVENT_NAME="schedule")
    found, _ = drift_and_report(runner, workspace)  # never applied: all four are drift
    assert found.outputs["exit-code"] == "2"
    repository = fake_gh.read(store)
    assert repository["labels"] == ["aimodels-drift"]
    assert [i["title"] for i in repository["issues"]] == ["aimodels: drift in Stack quickstart"]


@pytest.mark.parametrize(("code", "passes"), [("0", True), ("2", True), ("1", False),
                                              ("4", False), ("5", False), ("", False)])
def test_drift_fails_the_run_only_on_errors(make_runner: MakeRunner, code: str,
                                            passes: bool) -> None:
    check = make_runner("cron").run(DRIFT_CHECK, {"steps.drift.outputs.exit-code": code})
    assert (check.code == 0) is passes
