"""``Kind/name``: how a resource is named in output, flags and state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter

from aimodels.model.kinds import RESOURCE_KINDS


@dataclass(frozen=True, slots=True, order=True)
class ResourceAddress:
    """The address of one managed resource, e.g. ``ModelDeployment/phi4-chat``.

    Printed one way everywhere (``str(address)``); ordering is by kind then name, which keeps
    plans and state deterministic.
    """

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ResourceAddress:
        """Parse ``Kind/name``; raises ValueError with a sentence a user can act on."""
        kind, sep, name = text.partition("/")
        if not sep or not name or "/" in name:
            raise ValueError(
                f"{text!r} is not an address: write Kind/name, e.g. ModelDeployment/chat")
        if kind not in RESOURCE_KINDS:
            raise ValueError(
                f"{text!r}: unknown kind {kind!r}; the kinds are {', '.join(RESOURCE_KINDS)}"
            )
        return cls(kind, name)


_ORDER = attrgetter("kind", "name")


def sorted_addresses(addresses: Iterable[ResourceAddress]) -> list[ResourceAddress]:
    """``sorted(addresses)``, several times faster for thousands: the (kind, name) keys are
    compared in C rather than through the dataclass's ``__lt__``."""
    return sorted(addresses, key=_ORDER)
