"""Emulated Microsoft.CognitiveServices (api-version 2025-09-01): Foundry accounts, their
deployments, the model catalog, model capacities and usages.

This module serves the accounts and assembles the routes of the family; deployments live in
``deployments``, the catalog and quota in ``catalog``, the
validation rules in ``rules``. ``seed_account`` is what the embedded
``target: local`` calls to provide the account a user's Stack names.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator.cognitiveservices import catalog, deployments
from aimodels.emulator.cognitiveservices.common import (
    ACCOUNTS,
    RG_SCOPE,
    SUB_SCOPE,
    account_keys,
    find_account,
    group_exists,
    group_not_found,
    key_of,
    paged,
    public_account,
    seed_account,
    seed_fixture_accounts,
    versioned,
)
from aimodels.emulator.http import arm_error, json_response

__all__ = ["routes", "seed_account"]


def routes(emu: Any) -> list[Route]:
    """Seed the fixture accounts, then return every Microsoft.CognitiveServices route."""
    seed_fixture_accounts(emu)
    return (_account_routes(emu) + deployments.routes(emu)
            + catalog.routes(emu))


def _account_routes(emu: Any) -> list[Route]:
    async def get_account(request: Request) -> Response:
        p = request.path_params
        doc = find_account(emu, p["sub"], p["rg"], p["account"])
        if isinstance(doc, Response):
            return doc
        return json_response(public_account(request, doc))

    async def list_in_group(request: Request) -> Response:
        p = request.path_params
        if not group_exists(emu, p["sub"], p["rg"]):
            return group_not_found(p["rg"])
        docs = emu.store.list(ACCOUNTS, key_of(p["sub"], p["rg"]) + "/")
        return json_response(paged(request, emu, [public_account(request, d) for d in docs]))

    async def list_in_subscription(request: Request) -> Response:
        docs = emu.store.list(ACCOUNTS, request.path_params["sub"].lower() + "/")
        return json_response(paged(request, emu, [public_account(request, d) for d in docs]))

    async def list_keys(request: Request) -> Response:
        p = request.path_params
        doc = find_account(emu, p["sub"], p["rg"], p["account"])
        if isinstance(doc, Response):
            return doc
        if doc["properties"].get("disableLocalAuth"):
            # What Azure answers (seen through azapi): keys do not exist for such an account.
            return arm_error(400, "BadRequest", "Failed to list key. disableLocalAuth is set to "
                             "true")
        return json_response(account_keys(emu, doc))

    return [
        Route(SUB_SCOPE + "/accounts", versioned(list_in_subscription), methods=["GET"]),
        Route(RG_SCOPE + "/accounts", versioned(list_in_group), methods=["GET"]),
        Route(RG_SCOPE + "/accounts/{account}", versioned(get_account), methods=["GET"]),
        Route(RG_SCOPE + "/accounts/{account}/listKeys", versioned(list_keys), methods=["POST"]),
    ]
