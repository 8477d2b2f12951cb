"""Saved plan files: written with a digest over their canonical JSON, read back only when the
content still matches it, the formatVersion is this aimodels', and the document follows
schemas/plan.schema.json. Every malformed file is a clean error, never an internal one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aimodels.errors import EXIT_CONFLICT, EXIT_ERROR, AimodelsError, PreconditionError
from aimodels.model.address import ResourceAddress
from aimodels.plan.planfile import (
    document_digest,
    plan_from_document,
    read_plan_file,
    write_plan_file,
)
from aimodels.plan.values import Action, Change, Plan
from aimodels.transport.redact import scrub_secrets

CHAT = ResourceAddress("ModelDeployment", "chat")


def saved(tmp_path: Path) -> Path:
    """A plan file of one no-op change, as `plan --out` writes it."""
    change = Change(CHAT, Action.NOOP, before={"vmSize": "a"}, after={"vmSize": "a"},
                    precondition_etag='"1"', resource_id="/ids/chat")
    path = tmp_path / "plan.json"
    write_plan_file(path, Plan.build([change], desired_digest="d" * 64,
                                     state_lineage="lin", state_serial=3),
                    scrub=scrub_secrets)
    return path


def rewrite(path: Path, edit: Any, *, redigest: bool) -> None:
    """Edit the document; with ``redigest``, recompute the digest as a careful forger would."""
    document = json.loads(path.read_text())
    edit(document)
    if redigest:
        document["digest"] = document_digest(document)
    path.write_text(json.dumps(document))


def test_a_saved_plan_carries_its_digest_and_reads_back_equal(tmp_path: Path) -> None:
    path = saved(tmp_path)
    document = json.loads(path.read_text())
    assert document["digest"].startswith("sha256:") and len(document["digest"]) == 71
    assert document["digest"] == document_digest(document)
    plan = plan_from_document(read_plan_file(path))
    assert plan.changes[0].address == CHAT and plan.state_serial == 3


def _delete_chat(document: dict[str, Any]) -> None:
    document["changes"][0].update(action="delete", after=None,
                                  reasons=["delete_because_not_in_manifest"])


@pytest.mark.parametrize(("edit", "redigest", "expected"), [
    pytest.param(_delete_chat, False, "was changed after `aimodels plan` wrote it",
                 id="delete-added"),
    pytest.param(lambda d: d.update(stateSerial=4), False, "was changed after", id="serial"),
    pytest.param(lambda d: d.pop("digest"), False, "has no digest", id="no-digest"),
    pytest.param(lambda d: d.update(formatVersion="99"), True, "has formatVersion '99'",
                 id="format-99"),
    pytest.param(lambda d: d.update(formatVersion=99), True, "has formatVersion 99",
                 id="format-number"),
    pytest.param(lambda d: d.update(changes="x"), True, "is damaged at changes",
                 id="changes-a-string"),
    pytest.param(lambda d: d["changes"][0].update(action="explode"), True,
                 "is damaged at changes/0/action", id="unknown-action"),
    pytest.param(lambda d: d["changes"][0].update(address="Widget/x"), True,
                 "is damaged at changes/0/address", id="unknown-kind"),
    pytest.param(lambda d: d.update(extra=1), True, "is damaged at (top level)",
                 id="unknown-field"),
])
def test_an_altered_or_foreign_version_plan_is_refused_as_stale(
        tmp_path: Path, edit: Any, redigest: bool, expected: str) -> None:
    path = saved(tmp_path)
    rewrite(path, edit, redigest=redigest)
    with pytest.raises(PreconditionError) as info:
        read_plan_file(path)
    assert info.value.exit_code == EXIT_CONFLICT
    assert expected in info.value.message and str(path) in info.value.message
    assert "aimodels plan --out FILE" in info.value.hint


def test_a_plan_whose_only_error_is_a_semantic_one_is_refused_cleanly(tmp_path: Path) -> None:
    """Schema-valid, digest right, but an update without a reason: the Plan refuses it."""
    path = saved(tmp_path)
    rewrite(path, lambda d: d["changes"][0].update(action="update"), redigest=True)
    with pytest.raises(PreconditionError, match="damaged or from another version"):
        plan_from_document(read_plan_file(path))


def test_errored_and_applyable_are_derived_not_trusted(tmp_path: Path) -> None:
    path = saved(tmp_path)
    rewrite(path, lambda d: d.update(
        diagnostics=[{"severity": "error", "summary": "quota exceeded"}], errored=False,
        applyable=True), redigest=True)
    plan = plan_from_document(read_plan_file(path))
    assert plan.errored and not plan.applyable


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(b"\xff\xfe{}", "not a readable aimodels plan file", id="not-utf-8"),
    pytest.param(b"{", "not a readable aimodels plan file", id="truncated"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested too deep", id="deep"),
    pytest.param(b'{"kind": "something-else"}', "is not an aimodels plan file", id="foreign"),
    pytest.param(b"[]", "is not an aimodels plan file", id="a-list"),
])
def test_a_file_that_is_no_plan_is_a_clear_error(tmp_path: Path, content: bytes,
                                                 expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(AimodelsError) as info:
        read_plan_file(path)
    assert info.value.exit_code == EXIT_ERROR and expected in info.value.message


def test_a_folder_or_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AimodelsError, match="No plan file"):
        read_plan_file(tmp_path / "none.json")
    with pytest.raises(AimodelsError, match="not a readable aimodels plan file"):
        read_plan_file(tmp_path)


def test_a_plan_file_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """``plan --out`` under a regular file (or on a read-only or pseudo file system): exit 1
    naming the path and why, never an internal error."""
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(AimodelsError) as info:
        saved(tmp_path / "a-file")
    assert info.value.exit_code == EXIT_ERROR
    # The folder cannot be made: a file is in its place ("File exists").
    assert info.value.message == (f"Cannot write the plan file {tmp_path}/a-file/plan.json: "
                                  "File exists")
    assert "--out" in (info.value.hint or "")


def test_nan_in_a_plan_file_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = path.read_text().replace('"stateSerial": 3', '"stateSerial": NaN')
    path.write_text(text)
    with pytest.raises(PreconditionError, match="was changed after"):
        read_plan_file(path)
