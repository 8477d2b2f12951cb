"""``plan`` and ``drift`` list the state's parent collections while the manifests are still
being read and checked (``service/prefetch.py``): the same plan and the same errors, sooner.

Through ``impostor``, a real HTTP server in front of the emulator that records every request
(and refuses some); the loader is held after it hands over the Stack until the impostor has
seen what the test waits for, so the order of events is fixed, not left to timing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Cli, edit
from impostor import Answer, Forwarder, Request, impostor

from aimodels.emulator.server import RunningEmulator
from aimodels.model.desired import Stack
from aimodels.service import prefetch

DEPLOYMENTS = "/namespaces/default/modelDeployments"


@pytest.fixture
def held(cli: Cli, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[tuple[threading.Event, list[bool]]]:
    """The quickstart applied; from then on, the manifest loader is held, once it has handed
    over the Stack, until the event is set (10 s at most); records whether it was in time."""
    cli.applied()
    release = threading.Event()
    waited: list[bool] = []
    load = prefetch.load_manifests

    def holding_load(*args: Any, on_stack: Callable[[Stack], None], **kwargs: Any) -> Any:
        def hook(stack: Stack) -> None:
            on_stack(stack)
            waited.append(release.wait(10))

        return load(*args, on_stack=hook, **kwargs)

    monkeypatch.setattr(prefetch, "load_manifests", holding_load)
    yield release, waited
    release.set()


def list_paths(requests: list[Request]) -> list[str]:
    return [r.path.split("?")[0] for r in requests if r.method == "GET"]


@pytest.mark.parametrize("command", ["plan --detailed-exitcode", "drift"])
def test_the_states_collections_are_listed_while_the_manifests_load(
        command: str, cli: Cli, stack: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str],
        held: tuple[threading.Event, list[bool]]) -> None:
    release, waited = held
    forward = Forwarder(emulator.url)

    def answer(request: Request) -> Answer:
        if request.method == "GET" and DEPLOYMENTS in request.path:
            release.set()  # a collection of the state, asked for before the loader finished
        return forward(request)

    with impostor(answer) as proxy:
        done = Cli(capsys, proxy.url, stack)(command)
    forward.close()
    assert waited == [True], "no LIST reached Azure while the manifests were loading"
    assert done.code == 0, done.text
    assert "No changes" in done.out or "No drift" in done.out, done.text
    # Listed early or not, each collection is listed once.
    repeated = [path for path, count in Counter(list_paths(proxy.requests)).items() if count > 1]
    assert repeated == []


def test_a_manifest_error_wins_over_an_early_read_that_failed(
        cli: Cli, stack: Path, capsys: pytest.CaptureFixture[str],
        held: tuple[threading.Event, list[bool]]) -> None:
    release, waited = held
    edit(stack / "model-deployment.yaml", "vmSize:", "vmSzie:")

    def refuse(request: Request) -> Answer:
        # The loader goes on only well after the refusal reached the client: the early read
        # has failed before the manifest error is found.
        threading.Timer(0.3, release.set).start()
        return Answer.of_json(403, {"error": {"code": "AuthorizationFailed",
                                              "message": "The client has no authorization."}})

    with impostor(refuse) as gate:
        done = Cli(capsys, gate.url, stack)("plan")
        asked = list_paths(gate.requests)
    assert waited == [True]
    assert asked, "the early reads did not start"
    assert done.code == 3, done.text
    assert "vmSzie" in done.text
    assert "AuthorizationFailed" not in done.text and "authorization" not in done.text.lower()


def test_an_early_read_no_manifest_needs_is_dropped_with_its_error(
        cli: Cli, stack: Path, emulator: RunningEmulator,
        capsys: pytest.CaptureFixture[str],
        held: tuple[threading.Event, list[bool]]) -> None:
    # The deployment moves to another namespace: the state's collection (default) is listed
    # early, then not needed (the manifest says where it lives now): its 403 is no one's.
    release, _ = held
    edit(stack / "model-deployment.yaml", "namespace: default", "namespace: dev")
    forward = Forwarder(emulator.url)

    def answer(request: Request) -> Answer:
        if request.method == "GET" and DEPLOYMENTS in request.path:
            release.set()
            return Answer.of_json(403, {"error": {"code": "AuthorizationFailed",
                                                  "message": "The client has no authorization."}})
        return forward(request)

    with impostor(answer) as proxy:
        done = Cli(capsys, proxy.url, stack)("plan", "--detailed-exitcode")
    forward.close()
    assert DEPLOYMENTS in " ".join(list_paths(proxy.requests))
    assert done.code == 2, done.text
    assert "ModelDeployment/phi4-chat" in done.out
    assert "authorization" not in done.text.lower()
