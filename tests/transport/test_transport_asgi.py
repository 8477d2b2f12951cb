"""The client against a tiny real Starlette app through ``httpx.ASGITransport``: no sockets,
but real routing, real headers and real JSON, end to end through retries, paging and an LRO."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from transport_support import CS_ACCOUNT

from aimodels.transport.lro import complete_lro

DEPLOYMENTS = CS_ACCOUNT + "/deployments"


def _app() -> Starlette:
    seen: dict[str, int] = {"throttled": 0, "polls": 0}

    async def guard(request: Request) -> Response | None:
        if request.headers.get("authorization", "") != "Bearer aimodels-local-dev-token":
            return JSONResponse({"error": {"code": "AuthenticationFailed", "message": "no"}}, 401)
        if request.query_params.get("api-version") != "2025-09-01":
            return JSONResponse({"error": {"code": "InvalidApiVersion", "message": "?"}}, 400)
        return None

    async def listing(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        if seen["throttled"] == 0:
            seen["throttled"] += 1
            return JSONResponse(
                {"error": {"code": "TooManyRequests", "message": "x"}},
                429,
                headers={"Retry-After-Ms": "1"},
            )
        page = int(request.query_params.get("page", "1"))
        base = str(request.url_for("listing"))
        link = f"{base}?api-version=2025-09-01&page={page + 1}" if page < 3 else None
        return JSONResponse({"value": [{"name": f"d{page}"}], "nextLink": link})

    async def put(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        op = str(request.url_for("operation")) + "?api-version=2025-09-01"
        return JSONResponse(
            {"properties": {"provisioningState": "Creating"}},
            201,
            headers={"Azure-AsyncOperation": op, "Retry-After-Ms": "1"},
        )

    async def get(request: Request) -> Response:
        return JSONResponse(
            {"name": "gpt", "etag": '"1"', "properties": {"provisioningState": "Succeeded"}}
        )

    async def operation(request: Request) -> Response:
        seen["polls"] += 1
        status = "Succeeded" if seen["polls"] > 1 else "InProgress"
        return JSONResponse({"status": status}, headers={"Retry-After-Ms": "1"})

    return Starlette(
        routes=[
            Route(DEPLOYMENTS, listing, name="listing"),
            Route(DEPLOYMENTS + "/gpt", put, methods=["PUT"]),
            Route(DEPLOYMENTS + "/gpt", get, methods=["GET"]),
            Route("/operations/1", operation, name="operation"),
        ]
    )


def test_paging_retry_and_lro_against_an_asgi_app(make_client, fake_time):
    transport = httpx.ASGITransport(app=_app())

    async def main():
        async with make_client(transport, endpoint="http://emulator.test") as client:
            names = await client.list_all(DEPLOYMENTS)
            initial = await client.request("PUT", DEPLOYMENTS + "/gpt", json={"sku": {"name": "S"}})
            final = await complete_lro(client, initial)
            return names, final

    names, final = asyncio.run(main())
    assert [item["name"] for item in names] == ["d1", "d2", "d3"]
    assert final["etag"] == '"1"'
    assert fake_time.sleeps == [0.001, 0.001, 0.001]
