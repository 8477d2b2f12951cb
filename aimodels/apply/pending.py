"""What a read-only ``plan`` says about an interrupted apply.

``plan`` never writes, so it cannot settle the journal's pending intents (the next ``apply``
does, before planning). It can still plan as apply will see things then: a resource an
interrupted run created and that exists now is planned as managed (with the state entry the
intent carried), not reported as an unmanaged resource to ``aimodels import``. And it says,
as a warning, that the interrupted run is yet to be reconciled. (Imported by ``plan``: it
stays clear of the executor's imports.)
"""

from __future__ import annotations

from collections.abc import Mapping

from aimodels.apply.entries import registered_versions
from aimodels.errors import Diagnostic, warning
from aimodels.model.address import ResourceAddress
from aimodels.plan.values import LiveState, PriorResource
from aimodels.state.journal import Journal, JournalEntry
from aimodels.state.values import ResourceState


def latest_intents(pending: list[JournalEntry]) -> dict[str, JournalEntry]:
    """The newest open intent of each address (pending intents come oldest first): of two
    open for one address (a crash while an intent was being amended), the newer one counts."""
    return {intent.address: intent for intent in pending}


def with_interrupted(journal: Journal, prior: Mapping[ResourceAddress, PriorResource],
                     live: LiveState) -> tuple[dict[ResourceAddress, PriorResource],
                                               list[Diagnostic]]:
    """``prior`` plus the live resources pending creates in ``journal`` made, and the
    warning naming the pending operations (none when the journal has none)."""
    intents = latest_intents(journal.pending())
    if not intents:
        return dict(prior), []
    found = dict(prior)
    for intent in intents.values():
        adopted = _adopted(intent, found, live)
        if adopted is not None:
            found[adopted.address] = adopted
    names = ", ".join(sorted(intents))
    return found, [warning(
        f"an earlier apply was interrupted: {len(intents)} operation(s) are being reconciled "
        "on the next apply",
        f"The {journal.where} lists writes whose outcome is not in the state "
        f"yet: {names}. This plan shows them as the next apply will find them once it has "
        "re-read them (or re-attached to their operations); run `aimodels apply` to settle "
        "them.")]


def _adopted(intent: JournalEntry, prior: Mapping[ResourceAddress, PriorResource],
             live: LiveState) -> PriorResource | None:
    """The prior a pending create leaves when its resource exists (recovery records it)."""
    try:
        address = ResourceAddress.parse(intent.address)
    except ValueError:
        return None
    found = live.get(address)
    if intent.action != "create" or address in prior or found is None:
        return None
    raw = intent.details.get("entry")
    if not isinstance(raw, Mapping):  # an older journal: the resource as it is live
        return PriorResource(address, found.resource_id, etag=found.etag)
    entry = ResourceState.from_dict(raw)
    return PriorResource(address, entry.resource_id, dict(entry.desired), found.etag,
                         entry.prevent_destroy, dict(entry.extra.get("secretDigests", {})),
                         entry.ignore_changes, registered_versions(entry))
