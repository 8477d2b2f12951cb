"""Settling what a run killed mid-write left open: the journal's pending intents.

Apply writes an intent (with what the state entry will be) before each write to Azure and
closes it once the state holds the result. An intent still open at the start of the next apply
means the process died (kill -9, power loss, Ctrl-C) between the two, and the write may or may
not have reached Azure. We re-read each such resource instead of guessing:

- a create whose resource exists is recorded in the state with the entry the intent carried and
  the live ETag, so the next plan manages it instead of asking for ``aimodels import`` (nothing
  orphaned), and does not create it twice;
- a delete whose resource is gone has its entry removed;
- anything else (an update, a create that never landed, a delete that did not) changes nothing:
  the state still describes it, and the plan that follows re-reads it live.

An operation still running in Azure is not waited for here; the plan that follows sees it as
it is (re-attaching to its LRO is future work).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aimodels.apply.operations import Outcome
from aimodels.apply.state_store import StateStore
from aimodels.state.journal import JournalEntry
from aimodels.state.values import ResourceState
from aimodels.transport.client import AzureClient


def intent_details(url: str, api: str, entry: ResourceState | None,
                   params: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What an intent records: where to re-read the resource and, for a create or update, the
    state entry to write if it turns out to exist (no secret: the spec is masked, secrets are
    only digests)."""
    details: dict[str, Any] = {"url": url, "api": api}
    if params:
        details["params"] = dict(params)
    if entry is not None:
        details["entry"] = entry.to_dict()
    return details


async def recover_pending(store: StateStore, client: AzureClient) -> list[str]:
    """Settle every pending intent against what Azure holds now; returns one line per
    resource whose state entry changed. Closes the intents and clears the journal."""
    settled = []
    for intent in store.journal.pending():
        line = await _settle(store, client, intent)
        if line:
            settled.append(line)
        await store.done(intent.id, "recovered")
    store.finish()
    return settled


async def _settle(store: StateStore, client: AzureClient, intent: JournalEntry) -> str | None:
    details = intent.details
    if "url" not in details:
        return None
    body = await client.get_json_or_none(details["url"], api=details.get("api", "arm"),
                                         params=details.get("params"))
    if intent.action == "create" and body is not None and "entry" in details:
        entry = ResourceState.from_dict(details["entry"])
        await store.put(replace(entry, etag=Outcome.of(body).etag))
        return f"{intent.address}: created by an interrupted run; now in the state"
    if intent.action == "delete" and body is None and store.state.get(intent.address):
        await store.remove(intent.address)
        return f"{intent.address}: deleted by an interrupted run; dropped from the state"
    return None
