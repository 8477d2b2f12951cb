"""ARM error responses and network failures become aimodels errors, in one place, with the
exit codes of the spec; messages name method and path but never a query string."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from transport_support import AIM_DEPLOYMENT, CS_ACCOUNT, Script, arm_error

from aimodels.errors import AuthError, ConflictError, RemoteError
from aimodels.transport.config import RetryPolicy
from aimodels.transport.errors import NotFoundError


def _request_failing_with(make_client, response: httpx.Response, method: str = "GET"):
    async def main():
        async with make_client(Script(response), retry=RetryPolicy(max_attempts=1)) as client:
            await client.request(method, AIM_DEPLOYMENT, json={} if method == "PUT" else None)

    with pytest.raises(Exception) as info:
        asyncio.run(main())
    return info.value


@pytest.mark.parametrize(
    ("status", "code", "error_class", "exit_code"),
    [
        pytest.param(401, "InvalidAuthenticationToken", AuthError, 4, id="401"),
        pytest.param(403, "AuthorizationFailed", AuthError, 4, id="403"),
        pytest.param(404, "ResourceNotFound", NotFoundError, 5, id="404"),
        pytest.param(409, "Conflict", ConflictError, 6, id="409"),
        pytest.param(412, "PreconditionFailed", ConflictError, 6, id="412"),
        pytest.param(400, "ImmutableField", RemoteError, 5, id="400"),
        pytest.param(501, "NotImplemented", RemoteError, 5, id="501"),
    ],
)
def test_status_maps_to_error_class_and_exit_code(
    make_client, status, code, error_class, exit_code
):
    error = _request_failing_with(make_client, arm_error(status, code, "the message"), "PUT")
    assert type(error) is error_class
    assert error.exit_code == exit_code
    assert "PUT " + AIM_DEPLOYMENT in error.message
    assert "the message" in error.message


def test_412_says_run_plan_again(make_client):
    error = _request_failing_with(make_client, arm_error(412, "PreconditionFailed", "etag"))
    assert isinstance(error, ConflictError)
    assert error.code == "PreconditionFailed"
    assert "changed since the plan: run plan again" in error.message


def test_remote_error_carries_status_and_arm_code(make_client):
    error = _request_failing_with(make_client, arm_error(400, "InvalidScalingProfile", "both"))
    assert isinstance(error, RemoteError)
    assert (error.status, error.code) == (400, "InvalidScalingProfile")
    assert "InvalidScalingProfile: both" in error.message


def test_auth_errors_say_what_to_do(make_client):
    error = _request_failing_with(make_client, arm_error(401, "ExpiredAuthenticationToken", "x"))
    assert "az login" in error.hint
    assert "target: local" in error.hint


def test_non_json_error_body_is_quoted(make_client):
    error = _request_failing_with(make_client, httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, RemoteError)
    assert "Bad gateway" in error.message


def test_message_never_contains_the_query_string(make_client):
    url = "https://acct.blob.core.windows.net/c/model.bin?sv=2025&sig=SECRETSIG"

    async def main():
        async with make_client(Script(arm_error(403, "AuthorizationFailure", "no"))) as client:
            await client.request("GET", url, api="registry")

    with pytest.raises(AuthError) as info:
        asyncio.run(main())
    assert "GET /c/model.bin" in info.value.message
    assert "SECRETSIG" not in info.value.message
    assert "sv=" not in info.value.message


def test_get_json_or_none_returns_none_on_404(make_client):
    async def main():
        async with make_client(Script(arm_error(404, "ResourceNotFound", "gone"))) as client:
            return await client.get_json_or_none(CS_ACCOUNT)

    assert asyncio.run(main()) is None


def test_get_json_or_none_still_raises_other_errors(make_client):
    async def main():
        async with make_client(Script(arm_error(403, "AuthorizationFailed", "no"))) as client:
            return await client.get_json_or_none(CS_ACCOUNT)

    with pytest.raises(AuthError):
        asyncio.run(main())


def test_network_error_is_chained_from_the_httpx_exception(make_client):
    script = Script(*[httpx.ConnectError("refused")] * 5)

    async def main():
        async with make_client(script) as client:
            await client.get_json(CS_ACCOUNT)

    with pytest.raises(RemoteError) as info:
        asyncio.run(main())
    assert isinstance(info.value.__cause__, httpx.ConnectError)
