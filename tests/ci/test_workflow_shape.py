"""What docs/ci.md promises about the example workflows that actionlint does not check: least
privilege per job, the Azure token kept away from third-party actions, pinned actions, the
concurrency of each flow, and ``aimodels`` command lines the CLI really accepts."""

from __future__ import annotations

import re
import shlex
from typing import Any

import click
import pytest
from workflow_support import action_files, load, run_steps, workflow_files

from aimodels.cli.main import cli

#: Actions GitHub or Microsoft publish for this: trusted to run beside an Azure token.
FIRST_PARTY = ("actions/", "azure/login@", "./.github/actions/")
#: A major version tag (@v7) or a full commit SHA.
PINNED = re.compile(r"@(v\d+|[0-9a-f]{40})$")


def workflows() -> dict[str, dict[Any, Any]]:
    return {path.name: load(path) for path in workflow_files()}


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_id, job) for name, document in workflows().items()
            for job_id, job in document["jobs"].items()]


def used_actions(job: dict[str, Any]) -> list[str]:
    """What the job's steps use, the composite actions' own steps included."""
    local = {f"./.github/actions/{p.parent.name}": load(p) for p in action_files()}
    uses = [step["uses"] for step in job["steps"] if "uses" in step]
    inner = [step["uses"] for use in uses if use in local
             for step in local[use]["runs"]["steps"] if "uses" in step]
    return uses + inner


@pytest.mark.parametrize("name", [p.name for p in workflow_files()])
def test_nothing_is_granted_by_default_and_scripts_run_with_pipefail(name: str) -> None:
    document = workflows()[name]
    assert document["permissions"] == {}
    assert document["defaults"] == {"run": {"shell": "bash"}}  # bash -eo pipefail


def test_each_job_asks_for_what_it_needs_and_no_more() -> None:
    granted = {(name, job_id): job["permissions"] for name, job_id, job in jobs()}
    assert granted == {
        ("aimodels-apply.yml", "apply"): {"actions": "read", "contents": "read",
                                          "id-token": "write", "pull-requests": "read"},
        ("aimodels-drift.yml", "drift"): {"contents": "read", "id-token": "write"},
        ("aimodels-drift.yml", "issue"): {"issues": "write"},
        ("aimodels-plan.yml", "comment"): {"pull-requests": "write"},
        ("aimodels-plan.yml", "plan"): {"contents": "read", "id-token": "write"},
    }


def test_jobs_with_an_azure_token_run_only_first_party_actions() -> None:
    for name, job_id, job in jobs():
        uses = used_actions(job)
        third_party = [use for use in uses if not use.startswith(FIRST_PARTY)]
        if job["permissions"].get("id-token") == "write":
            assert third_party == [], (name, job_id)
            assert any(use.startswith("azure/login@") for use in uses), (name, job_id)
        else:
            assert not any(use.startswith("azure/login@") for use in uses), (name, job_id)


def test_only_the_apply_job_uses_the_protected_environment() -> None:
    environments = {(name, job_id): job.get("environment") for name, job_id, job in jobs()}
    assert {key for key, value in environments.items() if value} == {
        ("aimodels-apply.yml", "apply")}
    assert environments[("aimodels-apply.yml", "apply")] == "aimodels-apply"


def test_every_action_is_pinned_to_a_major_version_or_a_commit() -> None:
    remote = [use for _, _, job in jobs() for use in used_actions(job)
              if not use.startswith("./")]
    assert remote and all(PINNED.search(use) for use in remote), remote


def test_applies_queue_and_plans_of_one_pull_request_supersede_each_other() -> None:
    documents = workflows()
    assert documents["aimodels-apply.yml"]["concurrency"] == {
        "group": "aimodels-apply", "cancel-in-progress": False}
    assert documents["aimodels-plan.yml"]["concurrency"] == {
        "group": "aimodels-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True}
    assert documents["aimodels-drift.yml"]["concurrency"]["cancel-in-progress"] is False


def test_the_flows_run_on_their_events() -> None:
    documents = workflows()
    assert set(documents["aimodels-plan.yml"]["on"]) == {"pull_request"}
    assert set(documents["aimodels-apply.yml"]["on"]) == {"push", "workflow_dispatch"}
    assert documents["aimodels-apply.yml"]["on"]["push"]["branches"] == ["main"]
    assert set(documents["aimodels-drift.yml"]["on"]) == {"schedule", "workflow_dispatch"}
    # The Stack folder is named once per workflow and matches the path filters.
    for name, document in documents.items():
        assert document["env"]["AIMODELS_DIR"] == "infra", name
        trigger = document["on"].get("pull_request") or document["on"].get("push")
        if trigger:
            assert "infra/**" in trigger["paths"], name


def aimodels_commands() -> list[tuple[str, list[str]]]:
    """Every ``aimodels ...`` command line of the scripts: its arguments, up to the first shell
    operator (a redirection, ``||``), continuation lines joined."""
    found = []
    for step in run_steps():
        script = step.script.replace("\\\n", " ")
        for line in script.splitlines():
            if not line.strip().startswith("aimodels "):
                continue
            words = shlex.split(line.strip(), comments=True)
            arguments = []
            for word in words[1:]:
                if word in (">", ">>", "||", "&&", "|", ";") or word.startswith((">", "2>")):
                    break
                arguments.append(word)
            found.append((step.where, arguments))
    return found


def test_the_scripts_run_the_commands_of_docs_ci_md() -> None:
    assert sorted({" ".join(args[:1]) for _, args in aimodels_commands()}) == [
        "--version", "apply", "drift", "plan"]


@pytest.mark.parametrize(("where", "arguments"), aimodels_commands(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_every_aimodels_command_line_parses_with_the_cli(where: str,
                                                          arguments: list[str]) -> None:
    root = click.Context(cli, info_name="aimodels")
    if arguments == ["--version"]:
        assert any("--version" in param.opts for param in cli.params)
        return
    command = cli.get_command(root, arguments[0])
    assert command is not None, f"{where}: no command {arguments[0]}"
    # Parsing checks every flag exists and every choice is valid; nothing is run.
    command.make_context(arguments[0], arguments[1:], parent=root)


def test_a_misspelt_flag_would_be_caught() -> None:
    root = click.Context(cli, info_name="aimodels")
    plan = cli.get_command(root, "plan")
    assert plan is not None
    with pytest.raises(click.NoSuchOption):
        plan.make_context("plan", ["--detailed-exit-code"], parent=root)
    with pytest.raises(click.BadParameter):
        plan.make_context("plan", ["--format", "md"], parent=root)
