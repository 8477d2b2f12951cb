"""docs/ci.md stays true to examples/ci: it names every file there, its shell blocks are valid
bash, and the Azure subjects it tells to create are the ones the workflows' jobs present."""

from __future__ import annotations

import json
import re
import subprocess

from workflow_support import CI, ROOT, load

DOC = (ROOT / "docs" / "ci.md").read_text()


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", DOC, re.S)


def test_the_doc_names_every_example_file() -> None:
    files = [p for p in CI.rglob("*") if p.is_file()]
    assert len(files) == 5
    missing = [str(p.relative_to(CI)) for p in files
               if p.name not in DOC and p.parent.name not in DOC]
    assert missing == []


def test_the_shell_blocks_are_valid_bash() -> None:
    assert len(shell_blocks()) >= 3
    for block in shell_blocks():
        checked = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True,
                                 timeout=30, check=False)
        assert checked.returncode == 0, checked.stderr


def test_the_federated_credentials_match_the_jobs_that_sign_in() -> None:
    setup = next(block for block in shell_blocks() if "federated-credential" in block)
    quoted = re.search(r"OIDC='(.*)'", setup)
    assert quoted is not None
    oidc = json.loads("{" + quoted.group(1) + "}")
    assert oidc == {"issuer": "https://token.actions.githubusercontent.com",
                    "audiences": ["api://AzureADTokenExchange"]}
    subjects = re.findall(r'subject\\": \\"(repo:\$REPO:[^\\]+)\\"', setup)
    assert subjects == ["repo:$REPO:pull_request", "repo:$REPO:ref:refs/heads/main",
                        "repo:$REPO:environment:aimodels-apply"]
    # What each workflow's signing-in job presents as its subject.
    workflows = {p.name: load(p) for p in (CI / "github" / "workflows").glob("*.yml")}
    assert "pull_request" in workflows["aimodels-plan.yml"]["on"]
    assert workflows["aimodels-apply.yml"]["jobs"]["apply"]["environment"] == "aimodels-apply"
    assert "environment" not in workflows["aimodels-drift.yml"]["jobs"]["drift"]
    assert "schedule" in workflows["aimodels-drift.yml"]["on"]  # runs on the default branch
