"""Retries: which failures are retried, how long we wait (server-named or backoff), and how we
give up (exit 5 with the ARM code). Sleeps are recorded by the fake sleeper, never real."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from transport_support import CS_ACCOUNT, Script, arm_error

from aimodels.errors import EXIT_REMOTE, RemoteError
from aimodels.transport.config import RetryPolicy
from aimodels.transport.retry import backoff_delay, retry_after_seconds


def test_429_with_retry_after_then_200(make_client, fake_time):
    script = Script(
        arm_error(429, "TooManyRequests", "slow down", **{"Retry-After": "2"}),
        httpx.Response(200, json={"name": "a"}),
    )

    async def main():
        async with make_client(script) as client:
            return await client.get_json(CS_ACCOUNT)

    assert asyncio.run(main()) == {"name": "a"}
    assert fake_time.sleeps == [2.0]
    assert len(script.requests) == 2


def test_500_until_attempts_run_out_raises_remote_error(make_client, fake_time):
    script = Script(*[arm_error(500, "InternalServerError", "oops")] * 4)

    async def main():
        async with make_client(script, retry=RetryPolicy(max_attempts=4)) as client:
            await client.get_json(CS_ACCOUNT)

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert info.value.exit_code == EXIT_REMOTE
    assert (info.value.status, info.value.code) == (500, "InternalServerError")
    assert "after 4 attempts" in info.value.message
    assert "GET /subscriptions/s/resourceGroups/rg" in info.value.message
    assert len(script.requests) == 4
    assert len(fake_time.sleeps) == 3


def test_429_and_503_pace_the_client_without_using_up_its_attempts(make_client, fake_time):
    """A 429 or 503 says the request was not processed: we wait what it asks, and only the
    other failures count toward max_attempts (here 2: one 500 is allowed, not two)."""
    pace = {"Retry-After-Ms": "100"}
    script = Script(
        arm_error(429, "TooManyRequests", "slow down", **pace),
        arm_error(503, "ServiceUnavailable", "busy", **pace),
        arm_error(500, "InternalServerError", "oops"),
        arm_error(429, "TooManyRequests", "slow down", **pace),
        arm_error(503, "ServiceUnavailable", "busy", **pace),
        httpx.Response(200, json={"name": "a"}),
    )

    async def main():
        async with make_client(script, retry=RetryPolicy(max_attempts=2)) as client:
            return await client.get_json(CS_ACCOUNT)

    assert asyncio.run(main()) == {"name": "a"}
    assert len(script.requests) == 6
    # the one guessed wait (after the 500) is the first step of the backoff, not the third
    assert fake_time.sleeps[:2] == [0.1, 0.1] and 0 <= fake_time.sleeps[2] <= 0.5


def test_paced_answers_are_bounded_too(make_client, fake_time):
    script = Script(*[arm_error(429, "TooManyRequests", "later", **{"Retry-After-Ms": "10"})] * 4)

    async def main():
        async with make_client(script, retry=RetryPolicy(max_paced=3)) as client:
            await client.get_json(CS_ACCOUNT)

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert (info.value.status, len(script.requests)) == (429, 4)
    assert "after 4 attempts" in info.value.message


def test_a_deadline_replaces_the_attempt_count_and_the_budget(make_client, fake_time):
    """The polls of an accepted write: retried as long as the next wait ends before the
    deadline, however many attempts that takes, then the last failure is raised."""
    policy = RetryPolicy(max_attempts=2, base_delay=1.0, max_delay=4.0, total_budget=5)
    script = Script(*[httpx.ConnectError("refused")] * 8, httpx.Response(200, json={}))

    async def main(deadline):
        async with make_client(script, retry=policy) as client:
            return await client.request("GET", CS_ACCOUNT, deadline=deadline)

    assert asyncio.run(main(fake_time.now + 1000)).status == 200
    assert len(script.requests) == 9 and sum(fake_time.sleeps) > 5

    script.answers = [httpx.ConnectError("refused")] * 50
    script.requests.clear()
    with pytest.raises(RemoteError) as info:
        asyncio.run(main(fake_time.now + 30))
    assert info.value.code == "ConnectionError"
    assert 8 <= len(script.requests) < 50


@pytest.mark.parametrize("header", ["Retry-After-Ms", "x-ms-retry-after-ms"])
def test_retry_after_ms_is_honoured(make_client, fake_time, header):
    script = Script(
        arm_error(429, "TooManyRequests", "later", **{header: "150"}),
        httpx.Response(200, json={}),
    )

    async def main():
        async with make_client(script) as client:
            await client.get_json(CS_ACCOUNT)

    asyncio.run(main())
    assert fake_time.sleeps == [0.15]


def test_retry_after_as_http_date(make_client, fake_time):
    fake_time.now = 1_800_000_000.0  # Fri, 15 Jan 2027 08:00:00 GMT
    script = Script(
        arm_error(503, "Busy", "later", **{"Retry-After": "Fri, 15 Jan 2027 08:00:07 GMT"}),
        httpx.Response(200, json={}),
    )

    async def main():
        async with make_client(script) as client:
            await client.get_json(CS_ACCOUNT)

    asyncio.run(main())
    assert fake_time.sleeps == [7.0]


def test_backoff_without_header_is_jittered_and_bounded(make_client, fake_time):
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=3.0, total_budget=100)
    script = Script(*[httpx.Response(500)] * 4, httpx.Response(200, json={}))

    async def main():
        async with make_client(script, retry=policy) as client:
            await client.get_json(CS_ACCOUNT)

    asyncio.run(main())
    ceilings = [1.0, 2.0, 3.0, 3.0]
    assert len(fake_time.sleeps) == 4
    assert all(0 <= s <= c for s, c in zip(fake_time.sleeps, ceilings, strict=True))
    assert len(set(fake_time.sleeps)) == 4  # jittered, not a fixed ladder


def test_total_budget_stops_before_a_wait_that_would_pass_it(make_client, fake_time):
    policy = RetryPolicy(max_attempts=10, total_budget=30)
    script = Script(arm_error(429, "TooManyRequests", "wait a minute", **{"Retry-After": "60"}))

    async def main():
        async with make_client(script, retry=policy) as client:
            await client.get_json(CS_ACCOUNT)

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert info.value.code == "TooManyRequests"
    assert fake_time.sleeps == []
    assert len(script.requests) == 1


def test_post_is_not_retried_on_500(make_client):
    script = Script(arm_error(500, "InternalError", "oops"), httpx.Response(200, json={}))

    async def main():
        async with make_client(script) as client:
            await client.request("POST", "/custom-models", api="registry", json={"name": "m"})

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert info.value.status == 500
    assert len(script.requests) == 1


def test_post_is_retried_on_503_and_on_connect_error(make_client, fake_time):
    script = Script(
        arm_error(503, "Busy", "later", **{"Retry-After": "1"}),
        httpx.ConnectError("refused"),
        httpx.Response(201, json={"name": "m"}),
    )

    async def main():
        async with make_client(script) as client:
            return await client.request("POST", "/custom-models", api="registry", json={})

    assert asyncio.run(main()).status == 201
    assert len(script.requests) == 3


def test_post_is_not_retried_after_a_read_timeout(make_client):
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(201, json={}))

    async def main():
        async with make_client(script) as client:
            await client.request("POST", "/custom-models", api="registry", json={})

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert info.value.code == "Timeout"
    assert len(script.requests) == 1


def test_read_only_post_marked_idempotent_is_retried(make_client):
    script = Script(httpx.Response(502), httpx.Response(200, json={"plans": []}))
    path = "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/aiModels/x"

    async def main():
        async with make_client(script) as client:
            return await client.request("POST", path + "/calculateCost", json={}, idempotent=True)

    assert asyncio.run(main()).body == {"plans": []}


def test_get_retries_connection_errors_then_gives_up_with_exit_5(make_client):
    script = Script(*[httpx.ConnectError("connection refused")] * 3)

    async def main():
        async with make_client(script, retry=RetryPolicy(max_attempts=3)) as client:
            await client.get_json(CS_ACCOUNT)

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert info.value.exit_code == EXIT_REMOTE
    assert info.value.code == "ConnectionError"
    assert "aimodels-emulator.local" in info.value.message
    assert len(script.requests) == 3


def test_an_unreachable_endpoint_fails_sooner_than_a_failing_service(make_client, fake_time):
    """Errors with an answer get max_attempts (8 by default); no answer at all, max_unanswered
    (4): a wrong endpoint fails in seconds, a service having a bad minute is given time."""
    failing = Script(*[arm_error(500, "InternalServerError", "oops")] * 7,
                     httpx.Response(200, json={}))
    unreachable = Script(*[httpx.ConnectError("refused")] * 8)

    async def main(script):
        async with make_client(script) as client:
            return await client.get_json(CS_ACCOUNT)

    assert asyncio.run(main(failing)) == {} and len(failing.requests) == 8
    with pytest.raises(RemoteError) as info:
        asyncio.run(main(unreachable))
    assert info.value.code == "ConnectionError" and len(unreachable.requests) == 4


def test_retry_reuses_the_request_id_of_the_logical_request(make_client):
    script = Script(httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(200))

    async def main():
        async with make_client(script) as client:
            await client.request("GET", CS_ACCOUNT)

    asyncio.run(main())
    ids = {r.headers["x-ms-client-request-id"] for r in script.requests}
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "3"}, 3.0, id="seconds"),
        pytest.param({"retry-after": "1.5"}, 1.5, id="fractional"),
        pytest.param({"retry-after-ms": "20", "retry-after": "9"}, 0.02, id="ms-wins"),
        pytest.param({"retry-after": "Fri, 15 Jan 2027 07:59:00 GMT"}, 0.0, id="date-in-past"),
        pytest.param({"retry-after": "soon"}, None, id="garbage"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after_parsing(headers, expected):
    assert retry_after_seconds(headers, now=1_800_000_000.0) == expected


def test_backoff_ceiling_doubles_up_to_max_delay():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    always_top = random.Random()
    always_top.uniform = lambda low, high: high  # type: ignore[method-assign]
    assert [backoff_delay(policy, n, always_top) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert backoff_delay(policy, 5000, always_top) == 4  # no float overflow on a long deadline
