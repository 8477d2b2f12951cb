"""The registry of known secret values: whatever field a service quotes one back in, and in
whatever encoding, ``redact_text`` (logs, events, errors) and ``scrub_secrets`` (the terminal,
the debug log, the plan file) replace it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import namedtuple
from urllib.parse import quote, quote_plus

import pytest
from azure.core.exceptions import ClientAuthenticationError

from aimodels.errors import AuthError
from aimodels.transport.credentials import AzureIdentityTokenSource
from aimodels.transport.errors import error_for_response
from aimodels.transport.redact import (
    MIN_SECRET_LENGTH,
    REDACTED,
    RedactingFilter,
    forget_secrets,
    redact_text,
    register_sas,
    register_secret,
    scrub_secrets,
)

#: A secret with every character that URL-encoding or JSON-escaping changes.
ODD = 'hf_a+b/c=d"e\\f g&h%i'
ARM = "https://management.azure.com/.default"


@pytest.mark.parametrize("form", [
    pytest.param(ODD, id="as-is"),
    pytest.param(quote(ODD, safe=""), id="url-encoded"),
    pytest.param(quote_plus(ODD), id="form-encoded"),
    pytest.param(json.dumps(ODD)[1:-1], id="json-escaped"),
])
def test_every_form_of_a_registered_secret_is_replaced(form):
    register_secret(ODD)
    text = f"400 InvalidCredential: the token {form} is not valid"
    assert redact_text(text) == f"400 InvalidCredential: the token {REDACTED} is not valid"
    assert scrub_secrets(text) == redact_text(text)


def test_a_quoted_json_body_keeps_its_shape():
    register_secret(ODD)
    body = json.dumps({"error": {"message": f"bad token {ODD}"}})
    assert json.loads(scrub_secrets(body)) == {"error": {"message": f"bad token {REDACTED}"}}


def test_short_values_are_not_registered():
    register_secret("a" * (MIN_SECRET_LENGTH - 1))
    register_secret(None)
    register_secret("       ")
    assert scrub_secrets("aaaaaaa admin       x") == "aaaaaaa admin       x"
    register_secret("a" * MIN_SECRET_LENGTH)
    assert scrub_secrets("aaaaaaaa") == REDACTED


def test_the_longest_known_value_wins():
    register_secret("abcdefgh")
    register_secret("abcdefgh-ijkl")
    assert scrub_secrets("x abcdefgh-ijkl y abcdefgh") == f"x {REDACTED} y {REDACTED}"


def test_a_sas_signature_is_known_wherever_it_shows_up():
    register_sas("https://acct.blob.core.windows.net/uploads?sv=2025-01-05&sig=AbC%2Bdef%3D123&sp=r")
    assert scrub_secrets("Signature AbC+def=123 did not match") == \
        f"Signature {REDACTED} did not match"


def test_scrubbing_only_touches_registered_values():
    shown = "curl -H 'Authorization: Bearer $AIMODELS_API_KEY' -d '{\"api-key\": \"x\"}'"
    assert scrub_secrets(shown) == shown
    forget_secrets()
    register_secret("secret-value-1")
    forget_secrets()
    assert scrub_secrets("secret-value-1") == "secret-value-1"


def test_an_error_message_quoting_a_known_secret_is_scrubbed_when_built():
    register_secret(ODD)
    body = {"error": {"code": "InvalidCredential", "message": f"token {quote(ODD)} rejected"}}
    error = error_for_response(400, body, json.dumps(body), "PUT", "https://x.azure.com/a")
    assert error.message == f"Azure error 400 on PUT /a: InvalidCredential: token {REDACTED} " \
        "rejected"


def test_log_lines_of_the_http_libraries_are_scrubbed():
    register_secret("k3y-from-listkeys")
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1,
                               "HTTP Request: %s", ("POST /x?key=k3y-from-listkeys",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"HTTP Request: POST /x?key={REDACTED}"


AccessToken = namedtuple("AccessToken", "token expires_on")


class Credential:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def get_token(self, scope: str) -> AccessToken:
        self.calls += 1
        if self.fail:
            raise ClientAuthenticationError("no credential\n13 more lines")
        return AccessToken("eyJ0eXAiOiJKV1QiLCJhbGciOi.token", 4_000_000_000)


def test_entra_tokens_are_registered():
    token = asyncio.run(AzureIdentityTokenSource(Credential).token(ARM))
    assert scrub_secrets(f"echoed: {token}") == f"echoed: {REDACTED}"


def test_a_scope_without_a_credential_is_tried_once_per_command():
    credential = Credential(fail=True)
    source = AzureIdentityTokenSource(lambda: credential)

    async def many() -> list[BaseException | str]:
        return await asyncio.gather(*(source.token(ARM) for _ in range(8)),
                                    return_exceptions=True)

    results = asyncio.run(many())
    assert all(isinstance(r, AuthError) for r in results)
    assert credential.calls == 1


def test_the_service_principal_secret_is_registered(monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "sp-secret-0123456789")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")  # no network
    with pytest.raises(AuthError):
        asyncio.run(AzureIdentityTokenSource().token(ARM))
    assert scrub_secrets("sp-secret-0123456789") == REDACTED


def test_a_storage_connection_string_and_its_key_are_known_once_used() -> None:
    from aimodels.blob.client import container_client

    key = "c2VjcmV0LXN0b3JhZ2Uta2V5LW5vYm9keS1zaG91bGQtc2Vl"
    connection = (f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={key};"
                  "BlobEndpoint=http://127.0.0.1:10000/acct;")
    container_client("http://127.0.0.1:10000/acct", "state",
                     {"AZURE_STORAGE_CONNECTION_STRING": connection})
    said = redact_text(f"403 for AccountKey={key} in {connection}")
    assert key not in said and "AccountName=acct" not in said
