"""The emulator's shared behaviour over real HTTP: throttling and faults (deterministic under the
seed), added latency, the bearer-token requirement, and clients that ride through the injected
failures (the official azure-mgmt-cognitiveservices SDK, and aimodels' own transport)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from aimodels.emulator.app import Emulator
from aimodels.emulator.blob.sas import ACCOUNT_NAME, account_key, mint_container_sas
from aimodels.emulator.blob.store import BlobStore
from aimodels.emulator.config import EmulatorConfig
from aimodels.emulator.server import RunningEmulator, start_in_thread
from aimodels.transport.client import AzureClient, HttpEvent
from aimodels.transport.config import ClientConfig

SUB = "00000000-0000-0000-0000-000000000000"
RG, ACCOUNT = "rg-quickstart", "quickstart-foundry"
ACCOUNT_PATH = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                f"Microsoft.CognitiveServices/accounts/{ACCOUNT}")
ARM = {"api-version": "2025-09-01"}
BEARER = {"Authorization": "Bearer t"}


def serve(**settings: object) -> RunningEmulator:
    return start_in_thread(EmulatorConfig(**settings))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningEmulator]:
    """One emulator with no injected failures for the read-only tests."""
    with serve() as running:
        yield running


def statuses(url: str, count: int, path: str = ACCOUNT_PATH) -> list[int]:
    """The statuses of ``count`` GETs of ``path``, one after the other."""
    with httpx.Client(base_url=url, headers=BEARER) as client:
        return [client.get(path, params=ARM).status_code for _ in range(count)]


def first_rolls_are(seed: int, *wanted: bool, below: float) -> bool:
    """Whether the seed's first random numbers fall below ``below`` as ``wanted`` says."""
    rng = random.Random(seed)
    return all((rng.random() < below) == want for want in wanted)


# -- throttling and faults ----------------------------------------------------------------------


def test_throttled_requests_get_429_with_retry_after_and_an_arm_error() -> None:
    with serve(throttle_rate=1.0) as em:
        response = httpx.get(em.url + ACCOUNT_PATH, params=ARM, headers=BEARER)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Retry-After-Ms"] == response.headers["x-ms-retry-after-ms"] == "100"
    assert response.json()["error"]["code"] == "TooManyRequests"
    assert "retry" in response.json()["error"]["message"]


def test_inference_paths_are_throttled_the_way_azure_openai_answers() -> None:
    with serve(throttle_rate=1.0) as em:
        response = httpx.post(em.url + "/openai/deployments/chat/chat/completions",
                              params={"api-version": "2024-10-21"}, headers=BEARER, json={})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "429"


def test_faults_are_500_or_503_with_arm_error_bodies() -> None:
    with serve(fault_rate=1.0) as em:
        with httpx.Client(base_url=em.url, headers=BEARER) as client:
            answers = [client.get(ACCOUNT_PATH, params=ARM) for _ in range(30)]
    assert {r.status_code for r in answers} == {500, 503}
    codes = {r.status_code: r.json()["error"]["code"] for r in answers}
    assert codes == {500: "InternalServerError", 503: "ServiceUnavailable"}
    # a 503 names its wait as the 429 does; a 500 names none
    waits = {r.status_code: r.headers.get("Retry-After-Ms") for r in answers}
    assert waits == {500: None, 503: "100"}


def test_the_seed_fixes_the_sequence_of_injected_statuses() -> None:
    def run(seed: int) -> list[int]:
        with serve(throttle_rate=0.2, fault_rate=0.2, seed=seed) as em:
            return statuses(em.url, 60)

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert set(first) == {200, 429, 500, 503}
    assert 5 <= first.count(429) <= 25


def test_blob_requests_are_never_throttled() -> None:
    emu = Emulator(EmulatorConfig(throttle_rate=1.0))
    BlobStore(emu.store, emu.now).ensure_container("uploads")
    sas = mint_container_sas(ACCOUNT_NAME, account_key(emu.store), "uploads", "rl",
                             emu.now() - 60, emu.now() + 600)
    with start_in_thread(emulator=emu) as em:
        response = httpx.get(f"{em.url}/{ACCOUNT_NAME}/uploads?restype=container&comp=list&{sas}")
    assert response.status_code == 200


def test_added_latency_delays_every_answer() -> None:
    with serve(latency_ms=150) as em:
        with httpx.Client(base_url=em.url, headers=BEARER) as client:
            for path in (ACCOUNT_PATH, f"/{ACCOUNT_NAME}/uploads", "/unknown"):
                started = time.monotonic()
                client.get(path, params=ARM)
                took = time.monotonic() - started
                assert 0.15 <= took < 1.0, path


# -- the bearer token ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ACCOUNT_PATH, "/datastore/list-sas", "/custom-models"])
@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwdw==", "Bearer", "t"])
def test_arm_and_registry_paths_need_a_bearer_token(shared: RunningEmulator, path: str,
                                                    authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(shared.url + path, params=ARM, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "retry-after" not in response.headers
    assert response.json()["error"]["code"] == "AuthenticationFailed"


def test_any_bearer_token_is_accepted(shared: RunningEmulator) -> None:
    response = httpx.get(shared.url + ACCOUNT_PATH, params=ARM,
                         headers={"Authorization": "bearer x"})
    assert response.status_code == 200
    assert response.json()["name"] == ACCOUNT


def test_an_anonymous_request_is_refused_before_any_throttling() -> None:
    with serve(throttle_rate=1.0) as em:
        response = httpx.get(em.url + ACCOUNT_PATH, params=ARM)
    assert response.status_code == 401


# -- clients ride through ------------------------------------------------------------------------


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("t", int(time.time()) + 3600)


class BearerPolicy(SansIOHTTPPolicy[Any, Any]):
    """Sets the bearer token itself, so the SDK accepts a plain-http endpoint."""

    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = "Bearer t"


def test_the_sdk_rides_through_a_throttle_honouring_retry_after() -> None:
    # A seed whose first request is throttled and whose second is not (throttle-rate 0.3).
    seed = next(s for s in range(1000) if first_rolls_are(s, True, False, below=0.3))
    seen: list[int] = []
    with serve(throttle_rate=0.3, seed=seed) as em:
        client = CognitiveServicesManagementClient(FakeCredential(), SUB, base_url=em.url,
                                                   authentication_policy=BearerPolicy())
        started = time.monotonic()
        account = client.accounts.get(
            RG, ACCOUNT, raw_response_hook=lambda r: seen.append(r.http_response.status_code))
        took = time.monotonic() - started
        client.close()
    assert account.name == ACCOUNT
    assert seen == [429, 200]
    # azure-core reads Retry-After (1 s) before Retry-After-Ms, as it would against ARM.
    assert 1.0 <= took < 5.0


def test_the_sdk_rides_through_faults() -> None:
    seed = next(s for s in range(1000) if first_rolls_are(s, True, below=0.5))
    seen: list[int] = []
    with serve(fault_rate=0.5, seed=seed) as em:
        client = CognitiveServicesManagementClient(
            FakeCredential(), SUB, base_url=em.url, authentication_policy=BearerPolicy(),
            retry_backoff_factor=0.01)
        accounts = list(client.accounts.list_by_resource_group(
            RG, raw_response_hook=lambda r: seen.append(r.http_response.status_code)))
        client.close()
    assert ACCOUNT in {a.name for a in accounts}
    assert seen[0] in (500, 503)
    assert seen[-1] == 200


def test_our_transport_rides_through_throttles_and_faults_waiting_what_it_is_told() -> None:
    events: list[HttpEvent] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def read(url: str) -> list[dict[str, Any]]:
        config = ClientConfig(target="azure", endpoint=url)
        async with AzureClient.from_config(config, on_http=events.append, sleep=sleep,
                                           rng=random.Random(1)) as client:
            return [await client.get_json(ACCOUNT_PATH) for _ in range(12)]

    with serve(throttle_rate=0.3, fault_rate=0.2, seed=11) as em:
        accounts = asyncio.run(read(em.url))
    assert [a["name"] for a in accounts] == [ACCOUNT] * 12
    throttles = [e for e in events if e.status == 429]
    assert throttles and {e.retry_in for e in throttles} == {0.1}
    assert any(e.status in (500, 503) for e in events)
    assert len(waits) == len(events) - 12


def test_paths_and_methods_nothing_serves_get_arm_errors(shared: RunningEmulator) -> None:
    with httpx.Client(base_url=shared.url, headers=BEARER) as client:
        unknown = client.get("/subscriptions/x/nothing-here")
        wrong_method = client.delete("/datastore/list-sas")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NotFound"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "MethodNotAllowed"
    assert "GET" in wrong_method.headers["Allow"]
