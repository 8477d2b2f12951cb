"""Long-running operations: the three polling styles, failure, cancel, timeout, and re-attaching
from a saved handle. Every scenario is a scripted MockTransport sequence."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from transport_support import AIM_DEPLOYMENT, CS_ACCOUNT, Script, arm_error

from aimodels.errors import EXIT_REMOTE, RemoteError
from aimodels.transport.config import LroPolicy, RetryPolicy
from aimodels.transport.lro import LroHandle, OperationTimedOut, complete_lro, wait_for_lro

OPS = "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus"
OP_URL = f"https://management.azure.com{OPS}/operationStatuses/op1?api-version=2026-08-02-preview"
LOCATION = f"https://management.azure.com{OPS}/operationResults/op1?api-version=2026-08-02-preview"
FAST = {"Retry-After-Ms": "50"}
CREATING = {"name": "chat", "properties": {"provisioningState": "Creating"}}
SUCCEEDED = {"name": "chat", "eTag": '"2"', "properties": {"provisioningState": "Succeeded"}}


def _run_write(make_client, script, method="PUT", on_handle=None, **config):
    async def main():
        async with make_client(script, **config) as client:
            initial = await client.request(
                method, AIM_DEPLOYMENT, json={} if method != "DELETE" else None
            )
            return await complete_lro(client, initial, on_handle=on_handle)

    return asyncio.run(main())


def test_async_operation_polls_status_then_gets_the_resource(make_client, fake_time):
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        httpx.Response(200, json={"status": "InProgress"}, headers={"Retry-After": "2"}),
        httpx.Response(200, json={"status": "Succeeded"}),
        httpx.Response(200, json=SUCCEEDED),
    )
    handles = []
    assert _run_write(make_client, script, on_handle=handles.append) == SUCCEEDED
    assert script.paths == [
        f"PUT {AIM_DEPLOYMENT}",
        f"GET {OPS}/operationStatuses/op1",
        f"GET {OPS}/operationStatuses/op1",
        f"GET {AIM_DEPLOYMENT}",
    ]
    assert fake_time.sleeps == [0.05, 2.0]
    assert [h.kind for h in handles] == ["async-operation"]
    # the poll URL is used as given: its api-version is not doubled
    assert str(script.requests[1].url).count("api-version") == 1


def test_async_operation_failed_raises_with_the_operation_error(make_client):
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        httpx.Response(
            200,
            json={
                "status": "Failed",
                "error": {"code": "ModelNotAvailable", "message": "no GPUs in eastus"},
            },
        ),
    )
    with pytest.raises(RemoteError) as info:
        _run_write(make_client, script)
    assert info.value.exit_code == EXIT_REMOTE
    assert info.value.code == "ModelNotAvailable"
    assert "no GPUs in eastus" in info.value.message
    assert "PUT " + AIM_DEPLOYMENT in info.value.message


def test_async_operation_canceled_raises(make_client):
    script = Script(
        httpx.Response(202, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        httpx.Response(200, json={"status": "Canceled"}),
    )
    with pytest.raises(RemoteError) as info:
        _run_write(make_client, script, method="DELETE")
    assert info.value.code == "OperationCanceled"


def test_delete_with_async_operation_returns_none_without_a_final_get(make_client):
    script = Script(
        httpx.Response(202, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        httpx.Response(200, json={"status": "Succeeded"}),
    )
    assert _run_write(make_client, script, method="DELETE") is None
    assert len(script.requests) == 2


def test_location_polls_until_not_202_and_returns_that_body(make_client, fake_time):
    script = Script(
        httpx.Response(202, headers={"Location": LOCATION, "Retry-After": "1"}),
        httpx.Response(202, headers={"Location": LOCATION, "Retry-After": "1"}),
        httpx.Response(200, json=SUCCEEDED),
    )
    assert _run_write(make_client, script, method="PATCH") == SUCCEEDED
    assert fake_time.sleeps == [1.0, 1.0]
    assert script.paths[1:] == [f"GET {OPS}/operationResults/op1"] * 2


def test_location_for_put_ends_with_a_get_of_the_resource(make_client):
    script = Script(
        httpx.Response(202, headers={"Location": LOCATION, **FAST}),
        httpx.Response(204),
        httpx.Response(200, json=SUCCEEDED),
    )
    assert _run_write(make_client, script) == SUCCEEDED
    assert script.paths[-1] == f"GET {AIM_DEPLOYMENT}"


def test_location_poll_error_is_raised_mapped(make_client):
    script = Script(
        httpx.Response(202, headers={"Location": LOCATION, **FAST}),
        httpx.Response(409, json={"error": {"code": "Conflict", "message": "busy"}}),
    )
    with pytest.raises(RemoteError) as info:
        _run_write(make_client, script, method="DELETE")
    assert info.value.exit_code == 6


def test_provisioning_state_polls_the_resource(make_client, fake_time):
    script = Script(
        httpx.Response(201, json=CREATING),
        httpx.Response(200, json=CREATING, headers=FAST),
        httpx.Response(200, json=SUCCEEDED),
    )
    assert _run_write(make_client, script, lro=LroPolicy(default_poll_interval=3)) == SUCCEEDED
    assert script.paths[1:] == [f"GET {AIM_DEPLOYMENT}"] * 2
    assert fake_time.sleeps == [3, 0.05]


def test_provisioning_state_failed_raises(make_client):
    failed = {"properties": {"provisioningState": "Failed"}}
    script = Script(
        httpx.Response(201, json=CREATING, headers=FAST), httpx.Response(200, json=failed)
    )
    with pytest.raises(RemoteError) as info:
        _run_write(make_client, script)
    assert info.value.code == "OperationFailed"
    assert "failed" in info.value.message


def test_bare_delete_202_waits_until_the_resource_is_gone(make_client):
    deleting = {"properties": {"provisioningState": "Deleting"}}
    script = Script(
        httpx.Response(202, headers=FAST),
        httpx.Response(200, json=deleting, headers=FAST),
        httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": "gone"}}),
    )
    assert _run_write(make_client, script, method="DELETE") is None
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("method", "response", "expected"),
    [
        pytest.param("PUT", httpx.Response(200, json=SUCCEEDED), SUCCEEDED, id="put-200-succeeded"),
        pytest.param(
            "PUT", httpx.Response(200, json={"name": "x"}), {"name": "x"}, id="put-no-state"
        ),
        pytest.param("DELETE", httpx.Response(204), None, id="delete-204"),
        pytest.param("DELETE", httpx.Response(200), None, id="delete-200"),
    ],
)
def test_already_done_needs_no_poll(make_client, method, response, expected):
    script = Script(response)
    handles = []
    assert _run_write(make_client, script, method=method, on_handle=handles.append) == expected
    assert len(script.requests) == 1 and handles == []


def test_polls_and_the_final_get_ride_through_passing_failures(make_client, fake_time):
    """After Azure accepted the write, throttling, 5xx and network errors of the polls and of
    the final GET are retried until the operation's deadline, not for max_attempts."""
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        arm_error(429, "TooManyRequests", "later", **{"Retry-After": "1"}),
        *[arm_error(500, "InternalServerError", "oops")] * 3,
        httpx.ConnectError("reset"),
        httpx.Response(200, json={"status": "Succeeded"}),
        *[arm_error(503, "ServiceUnavailable", "busy")] * 3,
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json=SUCCEEDED),
    )
    assert _run_write(make_client, script, retry=RetryPolicy(max_attempts=2)) == SUCCEEDED
    assert script.paths[-1] == f"GET {AIM_DEPLOYMENT}" and len(script.requests) == 12


def test_polls_failing_until_the_deadline_time_out_without_failing(make_client, fake_time):
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        *[arm_error(503, "ServiceUnavailable", "down", **{"Retry-After": "10"})] * 10,
    )
    with pytest.raises(OperationTimedOut) as info:
        _run_write(make_client, script, lro=LroPolicy(timeout=45))
    assert info.value.code == "OperationTimedOut"
    assert "did not finish within 45 s (its status could not be read: " in info.value.message
    assert "ServiceUnavailable" in info.value.message
    assert "may still be running" in info.value.hint
    assert len(script.requests) == 6  # the PUT, then polls at 0, 10, 20, 30 and 40 s


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(arm_error(404, "OperationNotFound", "unknown"), id="404-operation"),
        pytest.param(arm_error(400, "BadRequest", "no"), id="400"),
    ],
)
def test_an_error_answer_to_a_poll_fails_at_once(make_client, answer):
    """As azure-core's poller: a 4xx from the operation URL is Azure's answer, not a hiccup."""
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        answer,
    )
    with pytest.raises(RemoteError) as info:
        _run_write(make_client, script)
    assert not isinstance(info.value, OperationTimedOut)
    assert info.value.status == answer.status_code and len(script.requests) == 2


def test_timeout_raises_without_waiting_for_ever(make_client, fake_time):
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL}),
        *[httpx.Response(200, json={"status": "Running"})] * 3,
    )
    policy = LroPolicy(default_poll_interval=10, timeout=25)
    with pytest.raises(OperationTimedOut) as info:
        _run_write(make_client, script, lro=policy)
    assert info.value.code == "OperationTimedOut"
    assert "within 25 s" in info.value.message
    assert fake_time.sleeps == [10, 10]
    assert len(script.requests) == 3


def test_saved_handle_reattaches_in_a_later_process(make_client, fake_time):
    first = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST})
    )
    saved: list[str] = []

    async def start():
        async with make_client(first) as client:
            initial = await client.request("PUT", AIM_DEPLOYMENT, json={})
            handle = LroHandle.from_response(initial, client.clock())
            saved.append(json.dumps(handle.to_dict()))

    asyncio.run(start())  # ... and the process "crashes" here
    second = Script(
        httpx.Response(200, json={"status": "Succeeded"}), httpx.Response(200, json=SUCCEEDED)
    )

    async def resume():
        handle = LroHandle.from_dict(json.loads(saved[0]))
        async with make_client(second) as client:
            return await wait_for_lro(client, handle)

    assert asyncio.run(resume()) == SUCCEEDED
    assert second.paths[-1] == f"GET {AIM_DEPLOYMENT}"
    handle = LroHandle.from_dict(json.loads(saved[0]))
    assert (handle.kind, handle.method, handle.started_at) == (
        "async-operation",
        "PUT",
        fake_time.now,
    )


def test_foundry_deployment_put_uses_its_own_api_version_through_the_lro(make_client):
    url = CS_ACCOUNT + "/deployments/gpt"
    script = Script(
        httpx.Response(201, json=CREATING, headers={"Azure-AsyncOperation": OP_URL, **FAST}),
        httpx.Response(200, json={"status": "Succeeded"}),
        httpx.Response(200, json=SUCCEEDED),
    )

    async def main():
        async with make_client(script) as client:
            initial = await client.request("PUT", url, json={})
            return await complete_lro(client, initial)

    asyncio.run(main())
    assert script.requests[-1].url.params["api-version"] == "2025-09-01"
