"""Reading manifest files: locations of every field, and the refusals that keep hostile or
broken input from costing time or memory (size, binary, encoding, alias bombs, nesting)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aimodels.errors import SourceLocation
from aimodels.manifest.discover import ManifestInput, discover
from aimodels.manifest.yamldoc import MAX_FILE_BYTES, format_path, read_documents


def read(tmp_path: Path, content: str | bytes, name: str = "m.yaml"):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return read_documents(ManifestInput(path, name, explicit=True))


def test_every_field_knows_its_line_and_column(tmp_path: Path) -> None:
    text = "a: 1\nspec:\n  scale:\n    replicas: 2\n  items: [x, {y: z}]\n"
    docs, problems = read(tmp_path, text)
    (doc,) = docs
    assert problems == []
    assert doc.at(("spec", "scale", "replicas")) == SourceLocation("m.yaml", 4, 15)
    assert doc.at(("spec", "scale", "replicas"), key=True) == SourceLocation("m.yaml", 4, 5)
    assert doc.at(("spec", "items", 1, "y")) == SourceLocation("m.yaml", 5, 18)
    assert doc.at(("spec", "nope", "deeper")) == SourceLocation("m.yaml", 3, 3)  # nearest: spec
    assert doc.spot(("a",)).raw == "1"


def test_documents_are_numbered_and_empty_ones_skipped(tmp_path: Path) -> None:
    docs, problems = read(tmp_path, "---\n# only a comment\n---\na: 1\n---\n---\nb: 2\n...\n")
    assert problems == []
    assert [(d.index, d.data, d.start.line) for d in docs] == [(0, {"a": 1}, 4), (1, {"b": 2}, 7)]


def test_empty_file_has_no_documents_and_no_problems(tmp_path: Path) -> None:
    assert read(tmp_path, "") == ([], [])


def test_utf8_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    docs, problems = read(tmp_path, "\ufeffa: 1\r\nb:\r\n  c: 2\r\n".encode())
    assert problems == [] and docs[0].data == {"a": 1, "b": {"c": 2}}
    assert docs[0].at(("b", "c")) == SourceLocation("m.yaml", 3, 6)


def test_duplicate_keys_are_kept_as_problems_of_their_document(tmp_path: Path) -> None:
    (doc,), _ = read(tmp_path, "spec:\n  vmSize: a\n  vmSize: b\n")
    (problem,) = doc.problems
    assert (problem.summary, problem.path, problem.source) == (
        "duplicate key 'vmSize'", "spec.vmSize", SourceLocation("m.yaml", 3, 3))
    assert "line 2" in problem.detail


def test_billion_laughs_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 12):  # 10**12 nodes if expanded
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    started = time.perf_counter()
    docs, (problem,) = read(tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0
    assert docs == []
    assert problem.summary == "document expands to more than 100000 YAML nodes"
    assert "billion laughs" in problem.detail and problem.source and problem.source.line > 1


def test_small_aliases_are_fine(tmp_path: Path) -> None:
    docs, problems = read(tmp_path, "a: &x {k: v}\nb: *x\nc: {<<: *x, d: 1}\n")
    assert problems == [] and docs[0].data["c"] == {"k": "v", "d": 1}


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(80)) + "  " * 80 + "leaf\n"
    _, (problem,) = read(tmp_path, text)
    assert problem.summary == "YAML nests deeper than 64 levels"


def test_absurd_flow_nesting_is_a_yaml_error_not_a_crash(tmp_path: Path) -> None:
    _, (problem,) = read(tmp_path, "[" * 20000 + "]" * 20000)
    assert problem.summary.startswith("invalid YAML") and problem.source is not None


def test_files_over_10_mib_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    _, (problem,) = read_documents(ManifestInput(path, "big.yaml", explicit=True))
    assert problem.summary == "file is too large (10.0 MiB)"


@pytest.mark.parametrize(("content", "summary", "where"), [
    (b"a: 1\nb: \x00\n", "binary file (it contains NUL bytes)", (2, 4)),
    (b"a: 1\nname: J\xe9r\xf4me\n", "file is not valid UTF-8", (2, 8)),
    ("a: 1\n".encode("utf-16"), "file is UTF-16 or UTF-32 encoded", (1, 1)),
    (b"a:\n\tb: 1\n", "invalid YAML: tab character", (2, 1)),
    (b"a: [1, 2\nb: 3\n", "invalid YAML: did not find expected ',' or ']'", (2, 2)),
    (b"a: !!python/object:os.system x\n", "invalid YAML: could not determine a constructor "
     "for the tag 'tag:yaml.org,2002:python/object:os.system'", (1, 4)),
    (b"? [1, 2]\n: 3\n", "invalid YAML: found unhashable key", (1, 3)),
    # libyaml reports a forbidden character with no position (it used to say "1:1 cannot be
    # parsed"): we find it ourselves, in characters, not bytes.
    (b"a: 1\nname: \xc3\xa9t\x1be\n", "control character U+001B (ESC) at 2:9 is not allowed in "
     "YAML", (2, 9)),
    (b"a: 1\r\nb: x\x0cy\r\n", "control character U+000C (FORM FEED) at 2:5 is not allowed in "
     "YAML", (2, 5)),
    (b"a: \xef\xbf\xbe\n", "character U+FFFE at 1:4 is not allowed in YAML", (1, 4)),
])
def test_unreadable_input_gets_one_located_diagnostic(tmp_path: Path, content: bytes,
                                                      summary: str, where: tuple[int, int]) -> None:
    docs, (problem,) = read(tmp_path, content)
    assert docs == []
    assert problem.summary == summary
    assert problem.source == SourceLocation("m.yaml", *where)


def test_format_path() -> None:
    assert format_path(()) == ""
    assert format_path(("spec", "scale", "replicas")) == "spec.scale.replicas"
    assert format_path(("spec", "items", 0, "x")) == "spec.items[0].x"
    assert format_path(("metadata", "labels", "app.io/name")) == 'metadata.labels["app.io/name"]'


def test_discover_scans_folders_sorted_and_skips_hidden_and_dependencies(tmp_path: Path) -> None:
    for rel in ["b.yaml", "a.yml", "sub/c.yaml", "notes.txt", ".hidden.yaml", ".aimodels/s.yaml",
                ".github/workflows/ci.yaml", "node_modules/pkg/x.yaml", "__pycache__/y.yaml"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n")
    found, problems = discover([str(tmp_path)])
    assert problems == []
    assert [p.path.relative_to(tmp_path).as_posix() for p in found] == ["a.yml", "b.yaml",
                                                                          "sub/c.yaml"]
    assert not any(p.explicit for p in found)


def test_discover_takes_named_files_of_any_name_and_dedupes(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("a: 1\n")
    (tmp_path / "manifest.txt").write_text("a: 1\n")
    found, problems = discover([str(tmp_path), str(tmp_path / "m.yaml"),
                                str(tmp_path / "manifest.txt")])
    assert problems == []
    assert [(p.path.name, p.explicit) for p in found] == [("m.yaml", True), ("manifest.txt", True)]


def test_discover_reports_missing_paths_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    found, problems = discover([str(tmp_path / "nope"), str(tmp_path / "empty")])
    assert found == []
    assert [p.summary.split(":")[0] for p in problems] == ["no such file or folder",
                                                           "no *.yaml or *.yml files in folder '"
                                                           + str(tmp_path / "empty") + "'"]


@pytest.mark.parametrize("make", ["fifo", "device"])
def test_discover_refuses_what_is_not_a_regular_file(tmp_path: Path, make: str) -> None:
    """A FIFO would block the read for ever and a device is no manifest: both are named, never
    read, whether named with -f or found by a scan (old code: 'no such file', or a hang)."""
    if make == "fifo":
        named = tmp_path / "pipe.yaml"
        os.mkfifo(named)
        scanned = [str(tmp_path)]
        kind = "a FIFO (named pipe)"
    else:
        named, scanned, kind = Path("/dev/null"), [], "a character device"
    found, problems = discover([str(named), *scanned])
    assert found == []
    assert {p.summary for p in problems} == {f"'{named}' is not a regular file or folder: it is "
                                             f"{kind}"}
    assert all(p.source == SourceLocation(str(named)) for p in problems)
