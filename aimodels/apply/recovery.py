"""Settling what a run killed mid-write left open: the journal's pending intents.

Apply writes an intent (where the resource is read back, and the state entry it will become)
before each write to Azure, amends it with the LRO handle as soon as Azure accepts the write,
and closes it once the state holds the result. An intent still open at the start of the next
apply means the process died (kill -9, power loss, a second Ctrl-C) or was interrupted in
between, and the write may or may not have reached Azure. Recovery finds out instead of
guessing, before anything is planned:

- an operation whose handle was journaled is *re-attached* (``transport.lro.wait_for_lro``)
  and followed to its end; without a handle (or when the operation cannot be followed) the
  resource is re-read, and while an operation still runs on it (``Creating``,
  ``Deleting``...), read again until it ends;
- a create that landed is recorded in the state with the entry the intent carried and the
  final ETag (nothing orphaned, and the next plan does not create it twice); if its operation
  failed, with ``extra.provisioningFailed`` (the plan then sends it again);
- an update whose re-attached operation succeeded records its new entry;
- a delete whose resource is gone has its entry removed;
- anything else (a create that never landed, a delete that did not) changes nothing: the
  state still describes it, and the plan that follows re-reads it live.

An intent written by an older aimodels, without those details, is located through
``locate`` (the manifests and the state, ``service.relocate``). Of two intents open for one
address (a crash while an intent was being amended), the newer one is settled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from aimodels.apply.entries import with_failure
from aimodels.apply.operations import Outcome
from aimodels.apply.pending import latest_intents
from aimodels.apply.state_store import StateStore
from aimodels.errors import RemoteError
from aimodels.state.journal import JournalEntry
from aimodels.state.values import ResourceState
from aimodels.transport.client import AzureClient
from aimodels.transport.lro import TERMINAL_STATES, LroHandle, wait_for_lro

#: Where to re-read the resource of an intent that does not say (None: nowhere known).
Locator = Callable[[JournalEntry], Mapping[str, Any] | None]


def intent_details(url: str, api: str, entry: ResourceState | None,
                   params: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What an intent records: where to re-read the resource and, for a create or update, the
    state entry to write if it turns out to exist (no secret: the spec is masked, secrets are
    only digests). Apply adds ``lro`` (``LroHandle.to_dict()``) once Azure accepts the write."""
    details: dict[str, Any] = {"url": url, "api": api}
    if params:
        details["params"] = dict(params)
    if entry is not None:
        details["entry"] = entry.to_dict()
    return details


async def recover_pending(store: StateStore, client: AzureClient, *,
                          locate: Locator | None = None, parallelism: int = 10) -> list[str]:
    """Settle every pending intent against what Azure holds now; returns one line per
    resource whose state entry changed (or that could not be located), sorted. Closes the
    intents and clears the journal."""
    pending = store.journal.pending()
    latest = latest_intents(pending)
    for intent in pending:
        if latest[intent.address] is not intent:
            await store.done(intent.id, "superseded")
    limit = asyncio.Semaphore(max(1, parallelism))

    async def settle(intent: JournalEntry) -> str | None:
        async with limit:
            line = await _settle(store, client, intent, locate)
        await store.done(intent.id, "recovered")
        return line

    lines = await asyncio.gather(*(settle(intent) for intent in latest.values()))
    await store.finish()
    return sorted(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class _Found:
    """What Azure holds once the operation ended: the body (None: gone), the provisioning
    failure ``(code, message)`` if it failed, and whether the outcome of *our* write is known
    (its operation was re-attached to and succeeded)."""

    body: Mapping[str, Any] | None
    failure: tuple[str, str] | None = None
    ours: bool = False


async def _settle(store: StateStore, client: AzureClient, intent: JournalEntry,
                  locate: Locator | None) -> str | None:
    details = intent.details if "url" in intent.details else \
        (locate(intent) if locate is not None else None)
    if not details or "url" not in details:
        return (f"{intent.address}: an interrupted run was about to {intent.action} it, and "
                "neither the journal nor the manifests say where it is: check Azure for it")
    if "lro" in details:
        found = await _reattach(client, details, intent.action)
    else:
        found = await _reread(client, details, intent.action)
    return await _record(store, intent, details, found)


async def _reattach(client: AzureClient, details: Mapping[str, Any], action: str) -> _Found:
    """Follow the operation the interrupted run started, from its journaled handle. If it
    cannot be followed to success (it failed, is no longer known, timed out), the resource
    itself says how it ended."""
    handle = LroHandle.from_dict(dict(details["lro"]))
    try:
        body = await wait_for_lro(client, handle)
    except RemoteError:
        return await _reread(client, details, action)
    return _Found(None if action == "delete" else body, ours=True)


async def _reread(client: AzureClient, details: Mapping[str, Any], action: str) -> _Found:
    """Read the resource; while an operation still runs on it (``Creating``, ``Deleting``...),
    read it again, from every 0.25 s backing off to the LRO poll interval, until it ends (or
    the LRO timeout passes: the plan then sees it as it is)."""
    body = await _get(client, details)
    delay, waited = 0.25, 0.0
    while _running(body) and details.get("api", "arm") == "arm" and \
            waited < client.config.lro.timeout:
        await client.sleep(delay)
        waited += delay
        delay = min(delay * 2, client.config.lro.default_poll_interval)
        body = await _get(client, details)
    return _Found(body, _failure(body))


def _running(body: Mapping[str, Any] | None) -> bool:
    return body is not None and _provisioning_state(body) not in TERMINAL_STATES | {""}


def _failure(body: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(code, message)`` of a resource whose provisioning failed, else None."""
    if _provisioning_state(body) != "failed":
        return None
    error = ((body or {}).get("properties") or {}).get("provisioningError") or {}
    return (str(error.get("code") or "ProvisioningFailed"),
            str(error.get("message") or "the operation failed in Azure"))


def portable_handle(handle: LroHandle) -> dict[str, Any]:
    """The handle as saved in the journal: URLs on the resource's own origin kept as paths,
    so a later run reaches them at whatever endpoint it uses (an emulator on another port,
    an endpoint override)."""
    data = handle.to_dict()
    origin = urlsplit(handle.resource_url)[:2]
    for key in ("poll_url", "resource_url"):
        parts = urlsplit(data[key])
        if parts[:2] == origin:
            data[key] = parts.path + (f"?{parts.query}" if parts.query else "")
    return data


async def _get(client: AzureClient, details: Mapping[str, Any]) -> Mapping[str, Any] | None:
    body = await client.get_json_or_none(details["url"], api=details.get("api", "arm"),
                                         params=details.get("params"))
    return body if isinstance(body, Mapping) else None


def _provisioning_state(body: Mapping[str, Any] | None) -> str:
    properties = (body or {}).get("properties")
    state = properties.get("provisioningState") if isinstance(properties, Mapping) else None
    return str(state or "").lower()


async def _record(store: StateStore, intent: JournalEntry, details: Mapping[str, Any],
                  found: _Found) -> str | None:
    """Write what the interrupted change left; the line saying so, or None."""
    address = intent.address
    if intent.action == "delete":
        if found.body is None and store.get(address) is not None:
            await store.remove(address)
            return f"{address}: deleted by an interrupted run; dropped from the state"
        return None
    if found.body is None:
        return None
    if "entry" not in details:  # an older journal's create, no longer in the manifests
        return (f"{address}: created by an interrupted run, and no longer in the manifests: "
                "delete it in Azure, or declare it again and `aimodels import` it"
                if intent.action == "create" else None)
    if intent.action != "create" and not found.ours:
        return None  # an update whose outcome is unknown: the plan re-reads it
    entry = replace(ResourceState.from_dict(details["entry"]), etag=Outcome.of(found.body).etag)
    failed = ""
    if found.failure is not None:
        entry = with_failure(entry, *found.failure)
        failed = f" (its operation failed: {found.failure[0]})"
    await store.put(entry)
    verb = "created" if intent.action == "create" else "updated"
    return f"{address}: {verb} by an interrupted run; now in the state{failed}"
