"""CustomModel weights stay inside the Stack's folder and its ``spec.weightsRoots``: a path that
leaves them (``../``, absolute, a link out, a link inside a weights folder) is refused at
validate with exit 3 at the ``path:`` line, naming the resolved path and the fix, never the
content; devices and FIFOs are named as such (not "does not exist", and never read); plan shows
the resolved path; the uploader applies the same rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from upload_support import KIB, STACK, Store, random_file, run_cli, upload, write_stack

from aimodels.weights.source import WeightsPathError, weights_files

CANARY = b"CANARY-shadow-content\n"


def outside_file(tmp_path: Path) -> Path:
    """A file next to the Stack's folder, standing for /etc/shadow."""
    secret = tmp_path / "elsewhere" / "shadow"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(CANARY)
    return secret


def escape_by_dots(stack: Path, secret: Path) -> str:
    return "../elsewhere/shadow"


def escape_by_absolute_path(stack: Path, secret: Path) -> str:
    return str(secret)


def escape_by_link(stack: Path, secret: Path) -> str:
    (stack / "model.safetensors").symlink_to(secret)
    return "./model.safetensors"


def escape_by_link_inside_folder(stack: Path, secret: Path) -> str:
    (stack / "weights").mkdir()
    random_file(stack / "weights" / "part-1.safetensors", 4 * KIB)
    (stack / "weights" / "part-2.safetensors").symlink_to(secret)
    return "./weights"


@pytest.mark.parametrize("escape", [escape_by_dots, escape_by_absolute_path, escape_by_link,
                                    escape_by_link_inside_folder],
                         ids=["dots", "absolute", "link", "link-inside-folder"])
def test_weights_outside_the_stack_folder_are_refused_at_validate(
        escape, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = outside_file(tmp_path)
    stack = tmp_path / "stack"
    stack.mkdir()
    path = escape(stack, secret)
    write_stack(stack, "llama", f"'{path}'")

    code, out, err = run_cli(["validate", "-f", str(stack)], capsys)

    assert code == 3, out + err
    assert f"{stack / 'model.yaml'}:5:9: error: CustomModel/llama, spec.path: " in err
    assert f"resolves to {secret}, outside the allowed folders" in err
    assert f"spec.weightsRoots: [{secret.parent}]" in err  # the fix, spelt out
    assert "Move the weights under the Stack's folder" in err
    assert "CANARY" not in out + err and "Traceback" not in err


def test_weights_roots_let_a_listed_folder_in_and_plan_shows_the_resolved_path(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    random_file(shared / "llama.safetensors", 64 * KIB)
    stack = write_stack(tmp_path / "stack", "llama", "../shared/llama.safetensors")
    (stack / "stack.yaml").write_text(STACK + "  weightsRoots: [../shared]\n")

    assert run_cli(["validate", "-f", str(stack)], capsys)[0] == 0
    code, out, err = run_cli(["--endpoint", store.url, "plan", "-f", str(stack)], capsys)
    assert code == 0, err
    assert f"upload 65.5 kB from {shared / 'llama.safetensors'} (sha256 " in out
    code, out, err = run_cli(["--endpoint", store.url, "apply", "--yes", "-f", str(stack)],
                             capsys)
    assert code == 0, out + err  # the uploader got the Stack's roots too


def test_plan_shows_weights_under_the_stack_folder_relative_to_it(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = write_stack(tmp_path, "llama", "./weights/../weights/llama.safetensors")
    random_file(stack / "weights" / "llama.safetensors", 64 * KIB)
    code, out, err = run_cli(["--endpoint", store.url, "plan", "-f", str(stack)], capsys)
    assert code == 0, err
    assert "upload 65.5 kB from weights/llama.safetensors (sha256 " in out


@pytest.mark.parametrize("kind", ["fifo", "fifo-inside-folder", "device"])
def test_devices_and_fifos_are_named_not_missing(kind: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    if kind == "fifo":
        os.mkfifo(stack / "model.safetensors")
        path, named, what = "./model.safetensors", stack / "model.safetensors", "a FIFO"
    elif kind == "fifo-inside-folder":
        random_file(stack / "weights" / "part-1.safetensors", 4 * KIB)
        os.mkfifo(stack / "weights" / "part-2.safetensors")
        path, named, what = "./weights", stack / "weights" / "part-2.safetensors", "a FIFO"
    else:
        path, named, what = "/dev/null", Path("/dev/null"), "a character device"
    write_stack(stack, "llama", path)
    (stack / "stack.yaml").write_text(STACK + "  weightsRoots: [/dev]\n")

    code, _, err = run_cli(["validate", "-f", str(stack)], capsys)

    assert code == 3
    assert f"spec.path: {named} is {what}" in err and "not a regular file or folder" in err
    assert "does not exist" not in err


def test_a_link_to_a_folder_inside_weights_is_refused(tmp_path: Path) -> None:
    """It used to be skipped in silence (its files never uploaded)."""
    random_file(tmp_path / "w" / "a.safetensors", KIB)
    (tmp_path / "other").mkdir()
    (tmp_path / "w" / "more").symlink_to(tmp_path / "other")
    with pytest.raises(WeightsPathError, match="more in the weights folder .* is a link to a "
                                               "folder"):
        weights_files(tmp_path / "w", [tmp_path])


def test_links_inside_the_allowed_folders_are_followed(tmp_path: Path) -> None:
    """A Hugging Face cache snapshot links each file to a blob beside it: that is fine."""
    random_file(tmp_path / "blobs" / "abc", KIB)
    (tmp_path / "snapshot").mkdir()
    (tmp_path / "snapshot" / "model.safetensors").symlink_to(tmp_path / "blobs" / "abc")
    (found,) = weights_files(tmp_path / "snapshot", [tmp_path])
    assert (found.relative, found.path, found.size) == ("model.safetensors",
                                                        tmp_path / "blobs" / "abc", KIB)


def test_the_uploader_refuses_a_link_out_before_sending_anything(
        store: Store, tmp_path: Path) -> None:
    """The rule holds where the bytes are read, not only at validate: a link swapped in after
    the plan is refused by the upload itself (its default: nothing outside the source)."""
    secret = outside_file(tmp_path)
    random_file(tmp_path / "w" / "a.safetensors", KIB)
    (tmp_path / "w" / "b.safetensors").symlink_to(secret)
    with pytest.raises(WeightsPathError, match="b.safetensors in the weights folder"):
        upload(store.url, tmp_path / "w", None, tmp_path / "data")
    assert not store.proxy.blocks
