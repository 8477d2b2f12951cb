"""What every Microsoft.CognitiveServices route of the emulator shares: the api-version guard,
resource ids, paged lists, and the accounts (seeded from fixtures or by ``seed_account``).

Accounts live in the store (collection ``cog.accounts``, key ``{sub}/{rg}/{account}`` lower-cased)
so accounts seeded for a user's Stack persist with the rest of the state under ``--data``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from aimodels.emulator import lro
from aimodels.emulator.http import arm_error, base_url

PROVIDER = "Microsoft.CognitiveServices"
API_VERSION = "2025-09-01"
#: The api-versions answered, all with the 2025-09-01 shapes: versions clients in the wild
#: send (the Azure CLI recordings use 2021-10-01, 2023-05-01, 2025-06-01, 2025-09-01 and
#: 2026-05-15-preview; Microsoft Learn's quota article 2023-05-01). Others get ARM's 400.
SERVED_API_VERSIONS = frozenset({
    "2021-10-01", "2022-12-01", "2023-05-01", "2023-10-01-preview", "2024-04-01-preview",
    "2024-10-01", "2025-04-01-preview", "2025-06-01", "2025-09-01", "2026-05-15-preview"})
ACCOUNTS = "cog.accounts"
DEPLOYMENTS = "cog.deployments"
#: Shared with the other ARM families: {subscriptionId, name, location} keyed ``{sub}/{rg}``.
RESOURCE_GROUPS = "arm.resourceGroups"
RG_SCOPE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices"
SUB_SCOPE = "/subscriptions/{sub}/providers/Microsoft.CognitiveServices"

Handler = Callable[[Request], Awaitable[Response]]


def section(emu: Any) -> dict[str, Any]:
    """The ``cognitiveServices`` section of the emulator's fixtures."""
    return emu.fixtures.get("cognitiveServices") or {}


def region(location: str) -> str:
    """A location as ARM names it: "East US" and "eastus" are both ``eastus``."""
    return location.replace(" ", "").lower()


def key_of(*parts: str) -> str:
    """A store key: ARM names compare case-insensitively, so keys are lower-cased."""
    return "/".join(p.lower() for p in parts)


def versioned(handler: Handler) -> Handler:
    """Wrap ``handler`` so requests without a served ``api-version`` get ARM's 400."""

    async def guarded(request: Request) -> Response:
        version = request.query_params.get("api-version")
        if not version:
            return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter "
                             "(?api-version=) is required for all requests.")
        if version not in SERVED_API_VERSIONS:
            return arm_error(400, "NoRegisteredProviderFound",
                             f"No registered resource provider found for API version '{version}' "
                             f"and type '{PROVIDER}'. The supported api-versions are "
                             f"'{', '.join(sorted(SERVED_API_VERSIONS))}'.")
        return await handler(request)

    return guarded


def account_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}/accounts/{name}"


def paged(request: Request, emu: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of ``items`` as ``{value, nextLink?}`` (nextLink absolute, keeping the query)."""
    size = int(section(emu).get("pageSize", 20))
    try:
        start = max(int(request.query_params.get("$skipToken", "0")), 0)
    except ValueError:
        start = 0
    page: dict[str, Any] = {"value": items[start:start + size]}
    if start + size < len(items):  # no more pages: no nextLink key at all, as Azure sends
        query = {k: v for k, v in request.query_params.items() if k != "$skipToken"}
        query["$skipToken"] = str(start + size)
        page["nextLink"] = f"{base_url(request)}{request.url.path}?{urlencode(query)}"
    return page


def find_account(emu: Any, sub: str, rg: str, name: str) -> dict[str, Any] | Response:
    """The account document, or the 404 ARM gives for a missing group or account."""
    doc: dict[str, Any] | None = emu.store.get(ACCOUNTS, key_of(sub, rg, name))
    if doc is not None:
        return doc
    if not group_exists(emu, sub, rg):
        return group_not_found(rg)
    return arm_error(404, "ResourceNotFound",
                     f"The Resource '{PROVIDER}/accounts/{name}' under resource group "
                     f"'{rg}' was not found. For more details please go to "
                     "https://aka.ms/ARMResourceNotFoundFix")


def group_exists(emu: Any, sub: str, rg: str) -> bool:
    """A resource group exists once seeded (by any family) or holding an account."""
    return emu.store.get(RESOURCE_GROUPS, key_of(sub, rg)) is not None \
        or bool(emu.store.list(ACCOUNTS, key_of(sub, rg) + "/"))


def group_not_found(rg: str) -> Response:
    return arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def account_keys(emu: Any, account: dict[str, Any]) -> dict[str, str]:
    """key1/key2 of an account: derived from --seed and the account id, so stable across runs."""
    seed = emu.config.seed
    return {n: hashlib.sha256(f"{seed}:{account['id'].lower()}:{n}".encode()).hexdigest()[:32]
            for n in ("key1", "key2")}


def seed_account(emu: Any, subscription: str, resource_group: str, account: str,
                 location: str, *, disable_local_auth: bool = False) -> dict[str, Any]:
    """Create the AIServices account ``account`` if it does not exist (idempotent); return it.

    This is how the embedded ``target: local`` provides the account a user's Stack names, and how
    the fixture accounts are seeded when the emulator starts. ``disable_local_auth`` makes an
    account that takes Entra ID tokens only (``properties.disableLocalAuth``).
    """
    key = key_of(subscription, resource_group, account)
    with emu.store.transaction() as store:
        existing: dict[str, Any] | None = store.get(ACCOUNTS, key)
        if existing is not None:
            return existing
        group_key = key_of(subscription, resource_group)
        if store.get(RESOURCE_GROUPS, group_key) is None:
            store.put(RESOURCE_GROUPS, group_key, {"subscriptionId": subscription,
                                                   "name": resource_group,
                                                   "location": region(location)})
        doc = _new_account(subscription, resource_group, account, location, emu.now())
        if disable_local_auth:
            doc["properties"]["disableLocalAuth"] = True
        store.put(ACCOUNTS, key, doc)
    return doc


def _new_account(sub: str, rg: str, name: str, location: str, now: float) -> dict[str, Any]:
    stamp = lro.iso(now)
    return {
        "id": account_id(sub, rg, name), "name": name, "type": f"{PROVIDER}/accounts",
        "kind": "AIServices", "location": region(location), "sku": {"name": "S0"}, "tags": {},
        "etag": f'"{hashlib.sha256(f"{sub}/{rg}/{name}".lower().encode()).hexdigest()[:32]}"',
        "systemData": {"createdBy": "aimodels-emulator", "createdByType": "Application",
                       "createdAt": stamp, "lastModifiedBy": "aimodels-emulator",
                       "lastModifiedByType": "Application", "lastModifiedAt": stamp},
        "properties": {"customSubDomainName": name.lower(), "publicNetworkAccess": "Enabled",
                       "provisioningState": "Succeeded", "dateCreated": stamp,
                       "allowProjectManagement": True},
    }


def public_account(request: Request, doc: dict[str, Any]) -> dict[str, Any]:
    """The account as clients see it; endpoints point at this emulator's origin."""
    endpoint = f"{base_url(request)}/accounts/{doc['name']}/"
    out = dict(doc)
    out["properties"] = dict(doc["properties"], endpoint=endpoint, endpoints={
        "OpenAI Language Model Instance API": endpoint,
        "AI Foundry API": endpoint,
        "Azure AI Model Inference API": endpoint,
    })
    return out


def seed_fixture_accounts(emu: Any) -> None:
    """Seed every account listed in the fixtures (no-op for those already stored)."""
    for acc in section(emu).get("accounts", []):
        seed_account(emu, acc["subscription"], acc["resourceGroup"], acc["name"], acc["location"],
                     disable_local_auth=bool(acc.get("disableLocalAuth")))
