"""A canary secret must never reach a log line, an ``on_http`` event or an error message."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from transport_support import CS_ACCOUNT, Script, arm_error

from aimodels.errors import AimodelsError
from aimodels.transport.credentials import StaticTokenSource
from aimodels.transport.redact import REDACTED, redact, redact_headers, redact_json, redact_text

CANARY = "canary-s3cr3t-7f3a9"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            f"GET https://a.blob.core.windows.net/c/b?sv=2025&sig={CANARY}&se=1", id="sas"
        ),
        pytest.param(f"Authorization: Bearer {CANARY}.abc", id="bearer"),
        pytest.param(f'{{"api-key": "{CANARY}"}}', id="api-key-json"),
        pytest.param(f"api-key={CANARY}", id="api-key-query"),
    ],
)
def test_redact_text_hides_the_canary(text):
    assert CANARY not in redact_text(text)
    assert REDACTED in redact_text(text)


def test_redact_headers():
    headers = {"Authorization": f"Bearer {CANARY}", "api-key": CANARY, "Accept": "application/json"}
    assert redact_headers(headers) == {
        "Authorization": REDACTED,
        "api-key": REDACTED,
        "Accept": "application/json",
    }


def test_redact_json_hides_secret_fields_and_credential_values():
    body = {
        "properties": {
            "sourceType": "HuggingFace",
            "credential": {"inline": {"type": "Inline", "value": CANARY}},
        },
        "primaryKey": CANARY,
        "keys": [CANARY],
        "sas_uri": f"https://x.blob.core.windows.net/u/m?sig={CANARY}",
        "nested": [{"clientSecret": CANARY, "password": CANARY, "accessToken": CANARY}],
        "usage": {"prompt_tokens": 12, "max_tokens": 100},
        "value": "not a secret outside a credential",
    }
    redacted = redact_json(body)
    assert CANARY not in repr(redacted)
    assert redacted["properties"]["sourceType"] == "HuggingFace"
    assert redacted["usage"] == {"prompt_tokens": 12, "max_tokens": 100}
    assert redacted["value"] == "not a secret outside a credential"
    assert body["primaryKey"] == CANARY  # the input is not changed


def test_redact_dispatches_on_type():
    assert redact(f"sig={CANARY}") == f"sig={REDACTED}"
    assert redact({"token": CANARY}) == {"token": REDACTED}


def test_canary_never_reaches_events_logs_or_errors(make_client, caplog):
    events = []
    sas_url = f"https://acct.blob.core.windows.net/c/model.bin?sv=1&sig={CANARY}"
    script = Script(
        httpx.Response(503, headers={"Retry-After": "0"}),
        httpx.ConnectError(f"refused while sending sig={CANARY}"),
        arm_error(403, "AuthorizationFailure", f"bad signature sig={CANARY}"),
    )

    async def main():
        async with make_client(
            script, tokens=StaticTokenSource(CANARY), on_http=events.append
        ) as client:
            await client.request("GET", sas_url, api="registry", headers={"api-key": CANARY})

    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    with pytest.raises(AimodelsError) as info:
        asyncio.run(main())
    assert len(events) == 3 and len(caplog.records) == 3
    seen = " ".join([repr(events), caplog.text, info.value.message, info.value.hint])
    assert CANARY not in seen
    assert "sig=REDACTED" in caplog.text
    assert script.requests[0].headers["api-key"] == CANARY  # the wire still gets the secret


def test_bearer_token_is_redacted_from_debug_logs(make_client, caplog):
    script = Script(httpx.Response(200, json={}))

    async def main():
        async with make_client(script, tokens=StaticTokenSource(CANARY)) as client:
            await client.get_json(CS_ACCOUNT)

    caplog.set_level(logging.DEBUG, logger="aimodels.transport")
    asyncio.run(main())
    assert "Authorization" in caplog.text or "authorization" in caplog.text
    assert CANARY not in caplog.text
    assert script.requests[0].headers["authorization"] == f"Bearer {CANARY}"


def test_httpx_own_request_log_is_redacted(make_client, caplog):
    script = Script(httpx.Response(201))

    async def main():
        async with make_client(script) as client:
            await client.request(
                "PUT", f"https://a.blob.core.windows.net/c/b?sig={CANARY}", api="registry"
            )

    caplog.set_level(logging.INFO, logger="httpx")
    asyncio.run(main())
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert httpx_lines and all("sig=REDACTED" in line for line in httpx_lines)
    assert CANARY not in caplog.text
