"""An answer that is not Azure's is an error (exit 5, "unexpected response from ..."), never
"the resource does not exist": not a plan to re-create everything, not "Deleted outside
aimodels", not an internal error (70).

Served over real HTTP on 127.0.0.1 by ``impostor``: a captive portal's HTML page for every
request, or the emulator's own answers with a body cut short or a field of the wrong type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Cli, Run, source_path
from impostor import Answer, Forwarder, Request, html_page, impostor

from aimodels.emulator.server import RunningEmulator

SOURCE_ID = source_path("hf-public")


def assert_unexpected(run: Run, *, content_type: str = "", problem: str = "") -> None:
    """Exit 5 with our message; nothing that reads as absence, no internal error."""
    assert run.code == 5, run.text
    assert "error: unexpected response from " in run.err, run.text
    if content_type:
        assert f"content-type {content_type}" in run.err, run.text
    assert problem in run.err, run.text
    assert "to create" not in run.out and "Deleted outside" not in run.out, run.text
    assert "internal error" not in run.text and "Traceback" not in run.text, run.text


@pytest.fixture
def forwarder(emulator: RunningEmulator) -> Iterator[Forwarder]:
    forward = Forwarder(emulator.url)
    yield forward
    forward.close()


def changing(forwarder: Forwarder, path_end: str,
             change: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Answer]:
    """The emulator's answers, with the list answers of ``path_end`` collections changed:
    ``change`` returns the new body (a JSON value, or raw bytes)."""

    def answer(request: Request) -> Answer:
        real = forwarder(request)
        if request.method != "GET" or not request.path.split("?")[0].endswith(path_end):
            return real
        changed = change(json.loads(real.body))
        if isinstance(changed, bytes):
            return Answer(200, changed, {"content-type": "application/json"})
        return Answer.of_json(200, changed)

    return answer


def test_a_captive_portal_is_an_error_not_absence(
        capsys: pytest.CaptureFixture[str], cli: Cli, stack: Path) -> None:
    with impostor(html_page) as portal:
        behind = Cli(capsys, portal.url, stack)
        # Nothing applied yet: import GETs the one resource it adopts.
        adopted = behind("import", "ModelSource/hf-public", SOURCE_ID)
        assert_unexpected(adopted, content_type="text/html", problem="the body is not JSON")
        assert f"GET {portal.url}{SOURCE_ID}?api-version=" in adopted.err
        assert "first bytes '<html><head><title>Sign in to Guest Wi-Fi</title>" in adopted.err
        assert "does not exist" not in adopted.err

        cli.applied()  # against the emulator: now the state manages four resources
        for command in ("plan", "plan --detailed-exitcode", "drift", "deployments list",
                        "models list", "uploads list"):
            assert_unexpected(behind(command), content_type="text/html")
    assert cli("drift").code == 0  # the emulator itself still answers as before


def test_a_list_body_cut_short_is_an_error(
        capsys: pytest.CaptureFixture[str], cli: Cli, stack: Path, forwarder: Forwarder) -> None:
    cli.applied()
    truncated = changing(forwarder, "/modelSources", lambda body: json.dumps(body)[:60].encode())
    with impostor(truncated) as proxy:
        behind = Cli(capsys, proxy.url, stack)
        for command in ("plan", "drift"):
            assert_unexpected(behind(command), content_type="application/json",
                              problem="the body is not valid JSON (")


def _properties_as_text(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "value": [{**item, "properties": "Succeeded"} for item in body["value"]]}


def _names_only(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "value": [item["name"] for item in body["value"]]}


@pytest.mark.parametrize(("path_end", "change", "problem", "commands"), [
    pytest.param("/modelSources", _properties_as_text, "'properties' of 'hf-public' is not an "
                 "object", ("plan", "drift"), id="properties-a-string"),
    pytest.param("/modelDeployments", _properties_as_text, "a field is missing or has the "
                 "wrong type", ("plan", "drift", "deployments list"), id="deployments"),
    pytest.param("/modelSources", _names_only, 'an item of "value" is not a JSON object',
                 ("plan", "drift"), id="items-not-objects"),
    pytest.param("/modelSources", lambda body: {"items": body["value"]},
                 'a list answer without a "value" list', ("plan", "drift"), id="no-value"),
    pytest.param("/modelSources", lambda body: "hf-public", "the body is a string in JSON, not "
                 "an object", ("plan", "drift"), id="a-string"),
])
def test_fields_of_the_wrong_type_are_an_error(
        capsys: pytest.CaptureFixture[str], cli: Cli, stack: Path, forwarder: Forwarder,
        path_end: str, change: Callable[[dict[str, Any]], Any], problem: str,
        commands: tuple[str, ...]) -> None:
    cli.applied()
    with impostor(changing(forwarder, path_end, change)) as proxy:
        behind = Cli(capsys, proxy.url, stack)
        for command in commands:
            assert_unexpected(behind(command), problem=problem)
