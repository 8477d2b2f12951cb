"""The endpoint override is checked once, where ``ClientConfig`` is built: an origin, http or
https, a host, a port in 1-65535, no path and no credentials (whose password is never shown).
Plain http to another machine is allowed with a warning."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from aimodels.errors import EXIT_USAGE, UsageError
from aimodels.transport.client import AzureClient
from aimodels.transport.config import ClientConfig, checked_endpoint, plain_http_warning
from aimodels.transport.credentials import StaticTokenSource


@pytest.mark.parametrize(("given", "origin"), [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    (" HTTPS://emulator.example.com ", "https://emulator.example.com"),
    ("http://[::1]:65535", "http://[::1]:65535"),
    ("http://localhost:1", "http://localhost:1"),
])
def test_an_origin_is_accepted(given, origin):
    assert checked_endpoint(given) == origin
    assert ClientConfig(endpoint=given).origin == origin


@pytest.mark.parametrize(("given", "problem"), [
    ("not a url", "is not an http:// or https:// URL"),
    ("127.0.0.1:8080", "is not an http:// or https:// URL"),
    ("ftp://127.0.0.1", "is not an http:// or https:// URL"),
    ("http://", "is not an http:// or https:// URL"),
    ("http://:8080", "has no valid host name"),
    ("http://not a host:8080", "has no valid host name"),
    ("http://127.0.0.1:99999", "has an invalid port: ports run from 1 to 65535"),
    ("http://127.0.0.1:0", "has an invalid port"),
    ("http://127.0.0.1:port", "has an invalid port"),
    ("http://127.0.0.1:8080/api", "has a path, query or fragment"),
    ("http://127.0.0.1:8080?x=1", "has a path, query or fragment"),
    ("http://127.0.0.1:8080#top", "has a path, query or fragment"),
    ("http://alice@127.0.0.1:8080", "carries credentials (user:password@): refused"),
    ("http://[::1", "is not a valid URL: Invalid IPv6 URL"),
    ("http://alice:pa55@[::1:8080", "is not a valid URL: Invalid IPv6 URL"),
])
def test_anything_else_is_a_usage_error(given, problem):
    with pytest.raises(UsageError) as raised:
        ClientConfig(target="azure", endpoint=given)
    assert raised.value.exit_code == EXIT_USAGE
    assert problem in raised.value.message
    assert "aimodels emulator serve" in raised.value.hint


def test_a_password_in_the_url_is_refused_and_never_shown():
    with pytest.raises(UsageError) as raised:
        checked_endpoint("http://alice:pa55-w0rd-xyz@127.0.0.1:8080")
    shown = raised.value.message + raised.value.hint
    assert "pa55-w0rd-xyz" not in shown
    assert "'http://alice:REDACTED@127.0.0.1:8080' carries credentials" in shown


def test_a_password_in_a_url_that_does_not_parse_is_never_shown():
    with pytest.raises(UsageError) as raised:
        checked_endpoint("http://alice:pa55-w0rd-xyz@[::1:8080")
    assert "pa55-w0rd-xyz" not in raised.value.message + raised.value.hint


@pytest.mark.parametrize(("endpoint", "warned"), [
    ("http://127.0.0.1:8080", False),
    ("http://localhost:8080", False),
    ("http://[::1]:8080", False),
    ("https://emulator.example.com", False),
    ("http://10.1.2.3:8080", True),
    ("http://emulator.example.com", True),
])
def test_plain_http_to_another_machine_is_warned_about(endpoint, warned):
    assert (plain_http_warning(endpoint) is not None) is warned


def test_the_client_warns_once_per_process(caplog):
    endpoint = "http://203.0.113.9:8080"  # TEST-NET-3: built, never called

    async def two_clients() -> None:
        for _ in range(2):
            client = AzureClient(ClientConfig(target="local", endpoint=endpoint),
                                 StaticTokenSource(),
                                 transport=httpx.MockTransport(lambda r: httpx.Response(500)))
            await client.aclose()

    with caplog.at_level(logging.WARNING, logger="aimodels.transport"):
        asyncio.run(two_clients())
    warnings = [r.getMessage() for r in caplog.records if r.name == "aimodels.transport"]
    assert warnings == [f"AIMODELS_ENDPOINT {endpoint} is plain http to another machine: "
                        "request bodies (a ModelSource's secret on apply, API keys on chat) "
                        "cross the network unencrypted; use https, or an emulator on 127.0.0.1"]
