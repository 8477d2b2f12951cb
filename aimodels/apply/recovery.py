"""Settling what a run killed mid-write left open: the journal's pending intents.

Apply writes an intent (where the resource is read back, and the state entry it will become)
before each write to Azure, amends it with the LRO handle as soon as Azure accepts the write,
and closes it once the state holds the result. An intent still open at the start of the next
apply means the process died (kill -9, power loss, a second Ctrl-C) or was interrupted in
between, and the write may or may not have reached Azure. Recovery finds out instead of
guessing, before anything is planned:

- an operation whose handle was journaled is *re-attached* (``transport.lro.wait_for_lro``)
  and followed to its end; without a handle the resource is re-read, and if an operation still
  runs on it (``Creating``, ``Deleting``...), its provisioning state is followed to the end;
- a create that landed is recorded in the state with the entry the intent carried and the
  final ETag (nothing orphaned, and the next plan does not create it twice); if its operation
  failed, with ``extra.provisioningFailed`` (the plan then sends it again);
- an update whose re-attached operation succeeded records its new entry;
- a delete whose resource is gone has its entry removed;
- anything else (a create that never landed, a delete that did not) changes nothing: the
  state still describes it, and the plan that follows re-reads it live.

An intent written by an older aimodels, without those details, is located through
``locate`` (the manifests and the state, ``apply.relocate``). Of two intents open for one
address (a crash while an intent was being amended), the newer one is settled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aimodels.apply.entries import with_failure
from aimodels.apply.operations import Outcome
from aimodels.apply.state_store import StateStore
from aimodels.errors import RemoteError
from aimodels.state.journal import JournalEntry
from aimodels.state.values import ResourceState
from aimodels.transport.client import AzureClient
from aimodels.transport.endpoints import resolve_url, with_api_version
from aimodels.transport.errors import NotFoundError
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


def latest_intents(pending: list[JournalEntry]) -> dict[str, JournalEntry]:
    """The newest open intent of each address (pending intents come oldest first)."""
    return {intent.address: intent for intent in pending}


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
    store.finish()
    return sorted(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class _Found:
    """What Azure holds after the operation ended: the body (None: gone), the operation's
    failure if it failed, and whether the outcome of *our* write is known (re-attached)."""

    body: Mapping[str, Any] | None
    failure: RemoteError | None = None
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
    """Follow the operation the interrupted run started, from its journaled handle."""
    handle = LroHandle.from_dict(dict(details["lro"]))
    try:
        body = await wait_for_lro(client, handle)
    except NotFoundError:  # the operation is no longer known: see what it left
        return await _reread(client, details, action)
    except RemoteError as exc:
        if exc.code == "OperationTimedOut":
            return await _reread(client, details, action)
        left = None if action == "delete" else await _get(client, details)
        return _Found(left, exc, ours=True)
    return _Found(None if action == "delete" else body, ours=True)


async def _reread(client: AzureClient, details: Mapping[str, Any], action: str) -> _Found:
    """Read the resource; if an operation still runs on it, follow it to its end first."""
    body = await _get(client, details)
    state = _provisioning_state(body)
    if body is None or details.get("api", "arm") != "arm" or state in TERMINAL_STATES | {""}:
        return _Found(body)
    method = "DELETE" if state == "deleting" else "PUT"
    url = with_api_version("arm", resolve_url(client.config, "arm", details["url"]))
    handle = LroHandle("provisioning-state", method, url, url, client.clock())
    try:
        final = await wait_for_lro(client, handle)
    except RemoteError as exc:
        return _Found(await _get(client, details), exc)
    return _Found(final)


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
        if found.body is None and store.state.get(address) is not None:
            await store.remove(address)
            return f"{address}: deleted by an interrupted run; dropped from the state"
        return None
    if found.body is None or "entry" not in details:
        return None
    if intent.action != "create" and not found.ours:
        return None  # an update whose outcome is unknown: the plan re-reads it
    entry = replace(ResourceState.from_dict(details["entry"]), etag=Outcome.of(found.body).etag)
    failed = ""
    if found.failure is not None:
        entry = with_failure(entry, found.failure.code, found.failure.message)
        failed = f" (its operation failed: {found.failure.code})"
    await store.put(entry)
    verb = "created" if intent.action == "create" else "updated"
    return f"{address}: {verb} by an interrupted run; now in the state{failed}"
