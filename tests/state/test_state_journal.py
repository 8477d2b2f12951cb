"""The write-ahead journal: intents without a done are pending; a torn last line is survived."""

from __future__ import annotations

import json

import pytest

from aimodels.errors import AimodelsError
from aimodels.state.journal import Journal


def test_no_journal_means_nothing_pending(tmp_path):
    assert Journal(tmp_path).pending() == []


def test_intent_is_pending_until_done(tmp_path):
    journal = Journal(tmp_path / ".aimodels", clock=lambda: 1000.0)
    first = journal.record_intent("ModelDeployment/chat", "create", {"lro": {"kind": "location"}})
    second = journal.record_intent("ModelSource/hf", "update")
    assert [e.address for e in journal.pending()] == ["ModelDeployment/chat", "ModelSource/hf"]
    journal.record_done(first)
    pending = Journal(tmp_path / ".aimodels").pending()  # as a new process sees it
    assert [(e.id, e.action, e.at) for e in pending] == [(second, "update", 1000.0)]
    journal.record_done(second, outcome="failed")
    assert journal.pending() == []


def test_details_survive_for_reattaching(tmp_path):
    journal = Journal(tmp_path)
    journal.record_intent("ModelDeployment/chat", "create", {"lro": {"poll_url": "https://x/op"}})
    assert journal.pending()[0].details == {"lro": {"poll_url": "https://x/op"}}


def test_clear_forgets_everything(tmp_path):
    journal = Journal(tmp_path)
    journal.record_intent("ModelSource/hf", "delete")
    journal.clear()
    assert not journal.path.exists()
    assert journal.pending() == []
    journal.clear()  # clearing twice is fine


def test_done_for_an_unknown_intent_is_a_bug(tmp_path):
    with pytest.raises(ValueError):
        Journal(tmp_path).record_done("nope")


def test_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path):
    journal = Journal(tmp_path)
    kept = journal.record_intent("ModelSource/hf", "create")
    with journal.path.open("a") as handle:
        handle.write('{"id": "torn", "kind": "do')  # the process died mid-append
    assert [e.id for e in journal.pending()] == [kept]
    later = journal.record_intent("ModelDeployment/chat", "create")
    assert [e.id for e in journal.pending()] == [kept, later]
    lines = journal.path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)


def test_damage_before_the_last_line_is_an_error(tmp_path):
    journal = Journal(tmp_path)
    journal.path.write_text('garbage\n{"id": "x"}\n')
    with pytest.raises(AimodelsError, match="damaged at line 1"):
        journal.pending()


def test_a_journal_that_is_not_utf8_is_an_error_naming_it(tmp_path):
    journal = Journal(tmp_path)
    journal.path.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(AimodelsError, match="Cannot read the journal") as info:
        journal.pending()
    assert str(journal.path) in info.value.message


@pytest.mark.parametrize("line", [
    pytest.param('{"id": 1, "kind": "intent", "address": "a", "action": "create", "at": 1}',
                 id="id-a-number"),
    pytest.param('{"id": "i", "kind": "intent", "address": "a", "action": "create", "at": 1, '
                 '"details": [1]}', id="details-a-list"),
    pytest.param('{"id": "i", "kind": "intent", "address": "a", "action": "c", "at": "now"}',
                 id="at-a-string"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested-too-deep"),
])
def test_a_line_of_the_wrong_shape_is_damage_not_a_crash(tmp_path, line):
    journal = Journal(tmp_path)
    journal.path.write_text(line + "\n" + '{"torn": \n')
    with pytest.raises(AimodelsError, match="damaged at line 1"):
        journal.pending()
