"""A stand-in for GitHub's ``gh`` CLI, for running the example workflows' shell steps in tests.

It knows only the commands those steps use, with the flags they pass, and refuses anything else
(exit 1), so a step that starts calling ``gh`` differently fails its test instead of passing
against a fake that guesses. The repository it acts on is a JSON file (``FAKE_GH_STATE``):
``issues``, ``labels``, ``runs`` (plan workflow runs), ``pulls`` (merge commit SHA -> the
pull requests the API lists for it), and ``calls``, every command line received.

Like the real one it needs ``GH_TOKEN``, needs ``GH_REPO`` when no checkout says which repository
(the issue job has none), and refuses ``issue create --label`` for a label that does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

_API_PULLS = "repos/{repo}/commits/{sha}/pulls"


def main(argv: list[str]) -> int:
    store = Path(os.environ["FAKE_GH_STATE"])
    state: dict[str, Any] = json.loads(store.read_text())
    state["calls"].append(argv)
    try:
        if not os.environ.get("GH_TOKEN"):
            raise SystemExit("gh: GH_TOKEN is not set")
        _dispatch(_parser().parse_args(argv), state)
    finally:
        store.write_text(json.dumps(state, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gh", exit_on_error=False)
    commands = parser.add_subparsers(dest="group", required=True)
    api = commands.add_parser("api")
    api.add_argument("path")
    run = commands.add_parser("run").add_subparsers(dest="verb", required=True).add_parser("list")
    for flag in ("--workflow", "--branch", "--event", "--status", "--json"):
        run.add_argument(flag, required=True)
    run.add_argument("--limit", type=int, required=True)
    label = commands.add_parser("label").add_subparsers(dest="verb", required=True)
    create_label = label.add_parser("create")
    create_label.add_argument("name")
    for flag in ("--color", "--description"):
        create_label.add_argument(flag, required=True)
    create_label.add_argument("--force", action="store_true")
    issue = commands.add_parser("issue").add_subparsers(dest="verb", required=True)
    listing = issue.add_parser("list")
    for flag in ("--state", "--label", "--json"):
        listing.add_argument(flag, required=True)
    listing.add_argument("--limit", type=int, required=True)
    create = issue.add_parser("create")
    for flag in ("--title", "--label", "--body-file"):
        create.add_argument(flag, required=True)
    edit = issue.add_parser("edit")
    edit.add_argument("number", type=int)
    edit.add_argument("--body-file", required=True)
    close = issue.add_parser("close")
    close.add_argument("number", type=int)
    close.add_argument("--comment", required=True)
    return parser


def _dispatch(args: argparse.Namespace, state: dict[str, Any]) -> None:
    if args.group in ("issue", "label") and not os.environ.get("GH_REPO"):
        raise SystemExit("gh: not a git repository; set GH_REPO")
    if args.group == "api":
        _api(args.path, state)
    elif args.group == "run":
        _run_list(args, state)
    elif args.group == "label":
        if args.name not in state["labels"]:
            state["labels"].append(args.name)
    else:
        _issue(args, state)


def _api(path: str, state: dict[str, Any]) -> None:
    repo, sha = os.environ["GITHUB_REPOSITORY"], os.environ["GITHUB_SHA"]
    if path != _API_PULLS.format(repo=repo, sha=sha):
        raise SystemExit(f"gh api: unexpected path {path}")
    print(json.dumps(state["pulls"].get(sha, [])))


def _run_list(args: argparse.Namespace, state: dict[str, Any]) -> None:
    if args.json != "databaseId":
        raise SystemExit(f"gh run list: unexpected --json {args.json}")
    runs = [run for run in state["runs"] if run["workflow"] == args.workflow
            and run["headBranch"] == args.branch and run["event"] == args.event
            and run["conclusion"] == args.status]
    runs.sort(key=lambda run: run["databaseId"], reverse=True)  # newest first, as gh lists
    print(json.dumps([{"databaseId": run["databaseId"]} for run in runs[:args.limit]]))


def _issue(args: argparse.Namespace, state: dict[str, Any]) -> None:
    issues: list[dict[str, Any]] = state["issues"]
    if args.verb == "list":
        fields = args.json.split(",")
        found = [i for i in issues if i["state"] == args.state and args.label in i["labels"]]
        print(json.dumps([{key: i[key] for key in fields} for i in found[:args.limit]]))
    elif args.verb == "create":
        if args.label not in state["labels"]:
            raise SystemExit(f"could not add label: '{args.label}' not found")
        number = len(issues) + 1
        issues.append({"number": number, "title": args.title, "state": "open",
                       "labels": [args.label], "body": Path(args.body_file).read_text(),
                       "comments": []})
        print(f"https://github.com/{os.environ['GH_REPO']}/issues/{number}")
    else:
        issue = next(i for i in issues if i["number"] == args.number)
        if args.verb == "edit":
            issue["body"] = Path(args.body_file).read_text()
        else:
            issue["state"] = "closed"
            issue["comments"].append(args.comment)


def install(folder: Path, store: Path, **repository: Any) -> Path:
    """A ``gh`` executable in ``folder`` running this fake on ``store``, which starts as
    ``repository`` (issues, labels, runs, pulls; each empty by default). Returns ``folder``."""
    state = {"issues": [], "labels": [], "runs": [], "pulls": {}, "calls": [], **repository}
    store.write_text(json.dumps(state))
    folder.mkdir(parents=True, exist_ok=True)
    gh = folder / "gh"
    gh.write_text(f"#!/bin/sh\nFAKE_GH_STATE='{store}' exec '{sys.executable}' "
                  f"'{Path(__file__).resolve()}' \"$@\"\n")
    gh.chmod(0o755)
    return folder


def read(store: Path) -> dict[str, Any]:
    """The fake repository as the commands left it."""
    return dict(json.loads(store.read_text()))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except argparse.ArgumentError as exc:
        sys.exit(f"gh: {exc}")
