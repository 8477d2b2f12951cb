"""The client's per-request duties: where a request goes, the api-version, the headers every
call carries, paging, the concurrency bound, and which credential signs it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import namedtuple

import httpx
import pytest
from azure.identity import CredentialUnavailableError
from transport_support import AIM_DEPLOYMENT, CS_ACCOUNT, Script

from aimodels.errors import EXIT_AUTH, AuthError
from aimodels.transport.client import AzureClient
from aimodels.transport.config import LOCAL_DEV_TOKEN, ClientConfig
from aimodels.transport.credentials import AzureIdentityTokenSource, StaticTokenSource
from aimodels.transport.endpoints import resolve_url, rewrite_url, with_api_version

EMULATOR = "http://127.0.0.1:8321"


@pytest.mark.parametrize(
    ("config", "api", "url", "expected"),
    [
        pytest.param(
            ClientConfig(),
            "arm",
            "/subscriptions/s",
            "https://management.azure.com/subscriptions/s",
            id="arm-path",
        ),
        pytest.param(
            ClientConfig(endpoint=EMULATOR),
            "arm",
            "/subscriptions/s",
            f"{EMULATOR}/subscriptions/s",
            id="arm-path-override",
        ),
        pytest.param(
            ClientConfig(endpoint=EMULATOR + "/"),
            "arm",
            "https://management.azure.com/subscriptions/s?api-version=1",
            f"{EMULATOR}/subscriptions/s?api-version=1",
            id="arm-url-override",
        ),
        pytest.param(
            ClientConfig(endpoint=EMULATOR),
            "registry",
            "/custom-models",
            f"{EMULATOR}/custom-models",
            id="registry-override",
        ),
        pytest.param(
            ClientConfig(registry_endpoint="https://fdp.example.azure.com/v1/"),
            "registry",
            "custom-models",
            "https://fdp.example.azure.com/v1/custom-models",
            id="registry-azure",
        ),
        pytest.param(
            ClientConfig(endpoint=EMULATOR),
            "inference",
            "https://alpha.openai.azure.com/openai/deployments/d/chat/completions",
            f"{EMULATOR}/openai/deployments/d/chat/completions",
            id="inference-override",
        ),
        pytest.param(
            ClientConfig(endpoint=EMULATOR),
            "arm",
            "http://127.0.0.1:9999/ops/1?api-version=1",
            "http://127.0.0.1:9999/ops/1?api-version=1",
            id="non-azure-host-kept",
        ),
        pytest.param(
            ClientConfig(target="local"),
            "arm",
            "/subscriptions/s",
            "http://aimodels-emulator.local/subscriptions/s",
            id="local-default-origin",
        ),
    ],
)
def test_resolve_url(config, api, url, expected):
    assert resolve_url(config, api, url) == expected


def test_blob_sas_urls_move_to_the_endpoint_with_their_query():
    url = "https://fdpstore.blob.core.windows.net/uploads/m.bin?sv=1&sig=a%2Bb"
    assert (
        rewrite_url(ClientConfig(endpoint=EMULATOR), url)
        == f"{EMULATOR}/uploads/m.bin?sv=1&sig=a%2Bb"
    )
    assert rewrite_url(ClientConfig(), url) == url


@pytest.mark.parametrize(
    ("api", "url", "expected_query"),
    [
        pytest.param(
            "arm", AIM_DEPLOYMENT, "api-version=2026-08-02-preview", id="containerservice"
        ),
        pytest.param(
            "arm",
            CS_ACCOUNT + "/deployments?$top=5",
            "$top=5&api-version=2025-09-01",
            id="cognitiveservices-keeps-query",
        ),
        pytest.param(
            "arm",
            CS_ACCOUNT + "?api-version=2024-10-01",
            "api-version=2024-10-01",
            id="already-present",
        ),
        pytest.param(
            "arm",
            CS_ACCOUNT + "?API-Version=2024-10-01",
            "API-Version=2024-10-01",
            id="already-present-any-case",
        ),
        pytest.param(
            "inference",
            "/openai/deployments/d/chat/completions",
            "api-version=2024-10-21",
            id="inference",
        ),
        pytest.param("registry", "/custom-models", "", id="registry-none"),
    ],
)
def test_api_version_injection(api, url, expected_query):
    assert httpx.URL(with_api_version(api, "http://h" + url)).query.decode() == expected_query


def test_unknown_provider_is_a_bug_not_a_guess():
    with pytest.raises(ValueError, match="Microsoft.Unknown"):
        with_api_version("arm", "http://h/subscriptions/s/providers/Microsoft.Unknown/things/x")


def test_every_request_has_a_unique_request_id_user_agent_and_bearer(make_client):
    script = Script(*[httpx.Response(200, json={})] * 3)

    async def main():
        async with make_client(script) as client:
            for _ in range(3):
                await client.get_json(CS_ACCOUNT)

    asyncio.run(main())
    ids = [r.headers["x-ms-client-request-id"] for r in script.requests]
    assert len(set(ids)) == 3 and all(len(i) == 36 for i in ids)
    assert {r.headers["user-agent"] for r in script.requests} == {"aimodels/0.1.0"}
    assert {r.headers["authorization"] for r in script.requests} == {f"Bearer {LOCAL_DEV_TOKEN}"}
    assert {r.url.params["api-version"] for r in script.requests} == {"2025-09-01"}


def test_caller_api_key_replaces_the_bearer_token(make_client):
    script = Script(httpx.Response(200, json={"choices": []}))

    async def main():
        async with make_client(script) as client:
            await client.request(
                "POST",
                "https://a.openai.azure.com/openai/deployments/d/chat/completions",
                api="inference",
                json={"messages": []},
                headers={"api-key": "k"},
            )

    asyncio.run(main())
    assert "authorization" not in script.requests[0].headers
    assert script.requests[0].headers["api-key"] == "k"


def test_response_value_has_status_headers_body_and_etag(make_client):
    script = Script(
        httpx.Response(200, json={"name": "chat", "eTag": '"7"'}, headers={"X-Thing": "1"})
    )

    async def main():
        async with make_client(script) as client:
            return await client.request("GET", AIM_DEPLOYMENT)

    response = asyncio.run(main())
    assert (response.status, response.etag, response.header("x-thing")) == (200, '"7"', "1")
    assert response.body["name"] == "chat"


def test_list_all_follows_next_link_across_pages(make_client):
    page = (
        "https://management.azure.com"
        + CS_ACCOUNT
        + "/deployments?api-version=2025-09-01&$skipToken="
    )
    script = Script(
        httpx.Response(200, json={"value": [{"n": 1}, {"n": 2}], "nextLink": page + "2"}),
        httpx.Response(200, json={"value": [{"n": 3}], "nextLink": page + "3"}),
        httpx.Response(200, json={"value": [{"n": 4}], "nextLink": None}),
    )

    async def main():
        async with make_client(script, endpoint=EMULATOR) as client:
            return await client.list_all(CS_ACCOUNT + "/deployments")

    assert [item["n"] for item in asyncio.run(main())] == [1, 2, 3, 4]
    assert [str(r.url) for r in script.requests][1:] == [
        f"{EMULATOR}{CS_ACCOUNT}/deployments?api-version=2025-09-01&$skipToken=2",
        f"{EMULATOR}{CS_ACCOUNT}/deployments?api-version=2025-09-01&$skipToken=3",
    ]
    assert all(r.url.host == "127.0.0.1" for r in script.requests)


def test_list_all_stops_on_a_next_link_loop(make_client):
    loop = f"{EMULATOR}{CS_ACCOUNT}/deployments?api-version=2025-09-01"
    script = Script(*[httpx.Response(200, json={"value": [{"n": 1}], "nextLink": loop})] * 3)

    async def main():
        async with make_client(script, endpoint=EMULATOR) as client:
            return await client.list_all(CS_ACCOUNT + "/deployments")

    assert asyncio.run(main()) == [{"n": 1}, {"n": 1}]


def test_concurrency_is_bounded(make_client):
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)  # let the other tasks try to get in
        await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, json={})

    async def main():
        async with make_client(handler, max_concurrency=3) as client:
            await asyncio.gather(*(client.get_json(CS_ACCOUNT) for _ in range(12)))

    asyncio.run(main())
    assert peak == 3


AccessToken = namedtuple("AccessToken", "token expires_on")


class FakeCredential:
    """Stands in for DefaultAzureCredential: hands out numbered tokens that live an hour."""

    def __init__(self, now) -> None:
        self.now = now
        self.calls: list[str] = []

    def get_token(self, scope: str) -> AccessToken:
        self.calls.append(scope)
        return AccessToken(f"t{len(self.calls)}", self.now() + 3600)


def test_azure_tokens_are_cached_per_scope_and_refreshed_before_expiry(fake_time):
    credential = FakeCredential(fake_time.clock)
    tokens = AzureIdentityTokenSource(lambda: credential, clock=fake_time.clock)
    arm, cog = (
        "https://management.azure.com/.default",
        "https://cognitiveservices.azure.com/.default",
    )

    async def main():
        got = [await tokens.token(arm), await tokens.token(arm), await tokens.token(cog)]
        fake_time.now += 3600 - 301  # still more than 5 minutes left
        got.append(await tokens.token(arm))
        fake_time.now += 2  # now inside the refresh margin
        got.append(await tokens.token(arm))
        return got

    assert asyncio.run(main()) == ["t1", "t1", "t2", "t1", "t3"]
    assert credential.calls == [arm, cog, arm]


def test_azure_client_sends_the_scope_of_each_api(fake_time):
    credential = FakeCredential(fake_time.clock)
    script = Script(*[httpx.Response(200, json={})] * 2)

    async def main():
        config = ClientConfig(target="azure", registry_endpoint="https://fdp.azure.com")
        tokens = AzureIdentityTokenSource(lambda: credential, clock=fake_time.clock)
        async with AzureClient(config, tokens, transport=httpx.MockTransport(script)) as client:
            await client.get_json(CS_ACCOUNT)
            await client.get_json("/custom-models", api="registry")

    asyncio.run(main())
    assert credential.calls == [
        "https://management.azure.com/.default",
        "https://cognitiveservices.azure.com/.default",
    ]
    assert script.requests[0].url.host == "management.azure.com"


def test_unavailable_credential_is_an_auth_error_with_a_hint(fake_time):
    def no_credential():
        raise CredentialUnavailableError(message="DefaultAzureCredential failed\nmore lines")

    async def main():
        await AzureIdentityTokenSource(no_credential).token("https://management.azure.com/.default")

    with pytest.raises(AuthError) as info:
        asyncio.run(main())
    assert info.value.exit_code == EXIT_AUTH
    assert "DefaultAzureCredential failed" in info.value.message
    assert "more lines" not in info.value.message
    assert "az login" in info.value.hint


@pytest.mark.parametrize(
    ("config", "source"),
    [
        pytest.param(ClientConfig(target="local"), StaticTokenSource, id="local"),
        pytest.param(
            ClientConfig(target="azure", endpoint=EMULATOR), StaticTokenSource, id="endpoint"
        ),
        pytest.param(ClientConfig(target="azure"), AzureIdentityTokenSource, id="azure"),
    ],
)
def test_from_config_picks_the_token_source(config, source):
    client = AzureClient.from_config(config)
    assert type(client.tokens) is source
    asyncio.run(client.aclose())


def test_endpoint_comes_from_the_environment():
    config = ClientConfig.from_env("azure", {"AIMODELS_ENDPOINT": EMULATOR})
    assert config.origin == EMULATOR and not config.uses_azure_identity
    assert ClientConfig.from_env("azure", {}).uses_azure_identity


def test_azure_identity_is_not_imported_until_a_token_is_needed():
    code = (
        "import sys; from aimodels.transport.client import AzureClient; "
        "from aimodels.transport.config import ClientConfig; "
        "AzureClient.from_config(ClientConfig(target='azure')); "
        "print('azure.identity' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_params_keep_the_api_version_in_the_url() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={})

    async def call() -> None:
        config = ClientConfig(target="local", endpoint="http://emulator.test")
        async with AzureClient(config, StaticTokenSource(),
                               transport=httpx.MockTransport(handler)) as client:
            await client.get_json("/subscriptions/s/providers/Microsoft.CognitiveServices/"
                                  "modelCapacities", params={"modelName": "gpt-4o"})

    asyncio.run(call())
    assert seen[0].params["api-version"] == "2025-09-01"
    assert seen[0].params["modelName"] == "gpt-4o"
