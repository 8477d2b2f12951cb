"""An answer that is not the API's (a redirect, a body that is not a JSON object, a list that
is not ``{"value": [objects]}``, a field of the wrong type) is ``UnexpectedResponseError``:
exit 5, the URL, the content type and the first bytes, never "absent" (None or [])."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from transport_support import CS_ACCOUNT, Script

from aimodels.errors import EXIT_REMOTE, AimodelsError, RemoteError
from aimodels.transport.errors import (
    UnexpectedResponseError,
    first_bytes,
    unexpected_shapes,
)
from aimodels.transport.redact import register_secret

EMULATOR = "http://127.0.0.1:8321"
PORTAL = b"<html><head><title>Guest Wi-Fi</title></head><body>Accept the terms</body></html>"


def _call(make_client: Any, answer: httpx.Response, verb: str = "get_json") -> Any:
    async def main() -> Any:
        async with make_client(Script(answer), endpoint=EMULATOR) as client:
            return await getattr(client, verb)(CS_ACCOUNT)

    return asyncio.run(main())


def _raised(make_client: Any, answer: httpx.Response, verb: str = "get_json") -> str:
    with pytest.raises(UnexpectedResponseError) as raised:
        _call(make_client, answer, verb)
    assert raised.value.exit_code == EXIT_REMOTE
    assert raised.value.code == "UnexpectedResponse"
    assert "captive portal" in raised.value.hint
    return raised.value.message


@pytest.mark.parametrize("verb", ["get_json", "get_json_or_none", "list_all"])
def test_an_html_page_is_an_error_for_every_read(make_client, verb):
    html = httpx.Response(200, content=PORTAL, headers={"content-type": "text/html"})
    message = _raised(make_client, html, verb)
    assert message.startswith(
        f"unexpected response from GET {EMULATOR}{CS_ACCOUNT}?api-version=2025-09-01: "
        "status 200, the body is not JSON; content-type text/html, first bytes "
        "'<html><head><title>Guest Wi-Fi</title></head><body>Accept the terms</body></html…'")


@pytest.mark.parametrize(("body", "problem"), [
    pytest.param(b'{"name": "a", "properties": {"provisio', "the body is not valid JSON (Unt",
                 id="truncated"),
    pytest.param(b'"a"', "the body is a string in JSON, not an object", id="string"),
    pytest.param(b"[1, 2]", "the body is a list in JSON, not an object", id="list"),
    pytest.param(b"null", "the body is null in JSON, not an object", id="null"),
    pytest.param(b"42", "the body is a number in JSON, not an object", id="number"),
])
def test_a_body_that_is_not_a_json_object_is_an_error(make_client, body, problem):
    answer = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    assert problem in _raised(make_client, answer)


@pytest.mark.parametrize("verb", ["get_json", "get_json_or_none", "list_all"])
def test_a_404_page_that_is_not_the_apis_is_an_error_never_absent(make_client, verb):
    """A proxy's or another server's 404 page must not read as "no such resource": plan would
    then create it, or call it deleted outside aimodels."""
    html = httpx.Response(404, content=PORTAL, headers={"content-type": "text/html"})
    assert "status 404, the body is not JSON; content-type text/html" in _raised(
        make_client, html, verb)


@pytest.mark.parametrize("content", [
    pytest.param(b'{"error": {"code": "ResourceNotFound", "message": "gone"}}', id="arm-error"),
    pytest.param(b"", id="no-body"),
])
def test_the_apis_own_404_is_still_not_found(make_client, content):
    answer = httpx.Response(404, content=content, headers={"content-type": "application/json"})
    assert _call(make_client, answer, "get_json_or_none") is None


def test_an_empty_body_is_an_error_where_one_is_needed_and_fine_elsewhere(make_client):
    assert "the body is empty, a JSON object was expected" in _raised(
        make_client, httpx.Response(200))

    async def accepted() -> Any:
        async with make_client(Script(httpx.Response(202)), endpoint=EMULATOR) as client:
            return await client.request("DELETE", CS_ACCOUNT)

    assert asyncio.run(accepted()).body is None  # a 202 with no body is an LRO's start


def test_a_redirect_is_an_error_naming_where_it_went(make_client):
    moved = httpx.Response(302, headers={"location": "https://portal.example/login?next=/"})
    message = _raised(make_client, moved)
    assert "status 302, a redirect to https://portal.example/login?next=/ (aimodels does not " \
        "follow redirects)" in message


@pytest.mark.parametrize(("body", "problem"), [
    pytest.param({"items": []}, 'a list answer without a "value" list', id="no-value"),
    pytest.param({"value": "a"}, 'a list answer without a "value" list', id="value-a-string"),
    pytest.param({"value": [{"name": "a"}, "b"]}, 'an item of "value" is not a JSON object',
                 id="item-a-string"),
    pytest.param({"value": [], "nextLink": 3}, '"nextLink" is not a URL', id="next-link"),
])
def test_a_list_that_is_not_value_objects_is_an_error(make_client, body, problem):
    assert problem in _raised(make_client, httpx.Response(200, json=body), "list_all")


def test_a_404_is_still_absence(make_client):
    assert _call(make_client, httpx.Response(404, json={}), "get_json_or_none") is None


def test_first_bytes_are_redacted_printable_and_short():
    register_secret("s3cret-value-known")
    shown = first_bytes("a\x00b\n\n c sig=abc&x=1 s3cret-value-known " + "z" * 200)
    assert shown.startswith("'a?b c sig=REDACTED&x=1 REDACTED zzz")
    assert shown.endswith("…'") and len(shown) == 80 + 3
    assert first_bytes("it's") == "'it\\'s'"


def test_unexpected_shapes_turns_a_wrong_type_into_an_unexpected_response():
    body = {"name": "a", "properties": "Succeeded"}
    with pytest.raises(UnexpectedResponseError) as raised, \
            unexpected_shapes("GET https://management.azure.com/x?sig=abc", body):
        body["properties"].get("provisioningState")  # type: ignore[attr-defined]
    assert raised.value.message == (
        "unexpected response from GET https://management.azure.com/x?sig=REDACTED: a field is "
        "missing or has the wrong type (AttributeError: 'str' object has no attribute 'get'); "
        "content-type application/json, first bytes '{\"name\": \"a\", \"properties\": "
        "\"Succeeded\"}'")
    assert isinstance(raised.value.__cause__, AttributeError)


def test_unexpected_shapes_lets_our_own_errors_through():
    with pytest.raises(RemoteError) as raised, unexpected_shapes("Azure"):
        raise RemoteError("Azure error 500 on GET /x", status=500)
    assert not isinstance(raised.value, UnexpectedResponseError)
    with pytest.raises(AimodelsError), unexpected_shapes("Azure"):
        raise AimodelsError("no deployment named x")


def test_the_sample_of_a_parsed_body_hides_secret_named_fields():
    body = {"endpoint": 3, "primaryKey": "unregistered-key-123"}
    with pytest.raises(UnexpectedResponseError) as raised, unexpected_shapes("POST /x", body):
        body["endpoint"].rstrip("/")  # type: ignore[attr-defined]
    assert "unregistered-key-123" not in raised.value.message
    assert '"primaryKey": "REDACTED"' in raised.value.message
