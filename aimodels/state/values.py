"""The state as values: ``State`` (the whole file) and ``ResourceState`` (one managed resource),
their JSON form and its schema, and the keyed digest that stands in for secrets.

State is what aimodels remembers between runs, not what Azure holds (that is *live*) nor what
the manifests say now (that is *desired*): for each address it keeps the resource id, the
desired spec last applied, the ETag seen then, and protection flags.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aimodels.model.kinds import RESOURCE_KINDS

FORMAT_VERSION = 1
DIGEST_PREFIX = "hmac-sha256:"

_RESOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["address", "resourceId"],
    "additionalProperties": False,
    "properties": {
        "address": {"type": "string", "pattern": f"^({'|'.join(RESOURCE_KINDS)})/[^/]+$"},
        "resourceId": {"type": "string"},
        "desired": {"type": "object"},
        "etag": {"type": ["string", "null"]},
        "preventDestroy": {"type": "boolean"},
        "ignoreChanges": {"type": "array", "items": {"type": "string"}},
        "extra": {
            "type": "object",
            # The keys aimodels reads back are typed, so a hand-edited value fails here
            # rather than deep inside planning; other keys are free room.
            "properties": {
                "secretDigests": {"type": "object",
                                  "additionalProperties": {"type": "string"}},
                "provisioningFailed": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}},
                "registeredVersions": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}

_STACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "target", "subscriptionId", "resourceGroup"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "target": {"type": "string"},
        "subscriptionId": {"type": "string"},
        "resourceGroup": {"type": "string"},
    },
}

#: The JSON Schema of a state file of ``formatVersion`` 1. ``stack`` is absent from files
#: written before aimodels recorded it; they are still read (see ``StackIdentity``).
STATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["formatVersion", "lineage", "serial", "digestKey", "resources"],
    "properties": {
        "formatVersion": {"const": FORMAT_VERSION},
        "lineage": {"type": "string", "minLength": 1},
        "serial": {"type": "integer", "minimum": 0},
        "digestKey": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "stack": _STACK_SCHEMA,
        "resources": {"type": "array", "items": _RESOURCE_SCHEMA},
    },
}


def secret_digest(key: bytes, value: str) -> str:
    """A keyed digest of a secret (HMAC-SHA256), kept in state instead of the secret.

    It tells whether a credential changed since the last apply without storing it. The key is
    random per state and lives in the state file, so it is no secret from someone who can read
    the state; what the digest guarantees is that a log, plan or state reader never sees the
    token, and cannot check a guessed token against a digest from another state.
    """
    mac = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return DIGEST_PREFIX + mac


@dataclass(frozen=True, slots=True)
class StackIdentity:
    """Which Stack a state belongs to: its name, target, subscription and resource group.

    Recorded in the state file so that a state copied into another Stack's folder is refused
    instead of having that Stack's resources planned for deletion. Subscription and resource
    group compare in any letter case (as Azure compares them); name and target exactly.
    """

    name: str
    target: str
    subscription_id: str
    resource_group: str

    def matches(self, other: StackIdentity) -> bool:
        """True when ``other`` is the same Stack."""
        return (self.name, self.target, self.subscription_id.lower(),
                self.resource_group.lower()) == (other.name, other.target,
                                                 other.subscription_id.lower(),
                                                 other.resource_group.lower())

    def describe(self) -> str:
        """``Stack 'team-alpha' (target azure, subscription 1111..., resource group rg-a)``."""
        return (f"Stack {self.name!r} (target {self.target}, subscription "
                f"{self.subscription_id}, resource group {self.resource_group})")

    def to_dict(self) -> dict[str, str]:
        """The JSON form (camelCase keys, as in the file)."""
        return {"name": self.name, "target": self.target,
                "subscriptionId": self.subscription_id, "resourceGroup": self.resource_group}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StackIdentity:
        """The value of a schema-valid ``stack`` object."""
        return cls(data["name"], data["target"], data["subscriptionId"], data["resourceGroup"])


@dataclass(frozen=True, slots=True)
class ResourceState:
    """What state remembers of one managed resource, by its address ``Kind/name``.

    ``desired`` is the spec last applied with secrets replaced by ``secret_digest`` values;
    ``etag`` is the one Azure returned then; ``prevent_destroy`` and ``ignore_changes`` are the
    ``lifecycle`` block last applied (a lifecycle edit is a planned, state-only change);
    ``extra`` is free room for the apply engine (upload cache, in-flight LRO handles). Not the
    live resource: never diff against it as such.
    """

    address: str
    resource_id: str
    desired: Mapping[str, Any] = field(default_factory=dict)
    etag: str | None = None
    prevent_destroy: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    ignore_changes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (camelCase keys, as in the file)."""
        return {
            "address": self.address,
            "resourceId": self.resource_id,
            "desired": dict(self.desired),
            "etag": self.etag,
            "preventDestroy": self.prevent_destroy,
            "ignoreChanges": list(self.ignore_changes),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceState:
        """The value of a schema-valid JSON entry."""
        return cls(
            address=data["address"],
            resource_id=data["resourceId"],
            desired=data.get("desired", {}),
            etag=data.get("etag"),
            prevent_destroy=data.get("preventDestroy", False),
            extra=data.get("extra", {}),
            ignore_changes=tuple(data.get("ignoreChanges", ())),
        )


@dataclass(frozen=True, slots=True)
class State:
    """The whole state file: its history (``lineage``), how many writes it has seen
    (``serial``), the digest key, the resources sorted by address, and the Stack it belongs to
    (``stack``; None in a new state and in files written before aimodels recorded it).

    Change it with ``with_resource`` / ``without``, which return new values; ``write_state``
    bumps the serial.
    """

    lineage: str
    serial: int
    digest_key: str
    resources: tuple[ResourceState, ...] = ()
    stack: StackIdentity | None = None

    def __post_init__(self) -> None:
        # Kept sorted by address whoever builds the value, since get/with_resource/without
        # binary-search it: O(N) for a sorted tuple (every copy of one is O(N) anyway).
        addresses = [resource.address for resource in self.resources]
        if addresses != sorted(addresses):
            object.__setattr__(self, "resources",
                               tuple(sorted(self.resources, key=_by_address)))

    @classmethod
    def new(cls) -> State:
        """An empty state with a fresh lineage and digest key (serial 0: never written)."""
        return cls(lineage=str(uuid.uuid4()), serial=0, digest_key=secrets.token_hex(32))

    @property
    def addresses(self) -> list[str]:
        """The addresses in state, sorted."""
        return [resource.address for resource in self.resources]

    def get(self, address: str) -> ResourceState | None:
        """The resource at ``address``, or None (a binary search: apply asks once per change)."""
        index = self._position(address)
        return self.resources[index] if self._holds(index, address) else None

    def with_resource(self, resource: ResourceState) -> State:
        """A copy with ``resource`` added, or replacing the one at its address (kept sorted
        by a binary search and two slices, not a sort: apply makes one per change)."""
        index = self._position(resource.address)
        end = index + 1 if self._holds(index, resource.address) else index
        return replace(self, resources=(*self.resources[:index], resource,
                                        *self.resources[end:]))

    def without(self, address: str) -> State:
        """A copy without the resource at ``address`` (the same state if it was not there)."""
        index = self._position(address)
        if not self._holds(index, address):
            return self
        return replace(self, resources=self.resources[:index] + self.resources[index + 1:])

    def with_changes(self, changes: Mapping[str, ResourceState | None]) -> State:
        """A copy with each address of ``changes`` set to its entry, or removed where the
        entry is None: many changes in one O(N log N) pass (apply's group commits)."""
        if not changes:
            return self
        entries = {r.address: r for r in self.resources}
        for address, entry in changes.items():
            if entry is None:
                entries.pop(address, None)
            else:
                entries[address] = entry
        return replace(self, resources=tuple(sorted(entries.values(), key=_by_address)))

    def _position(self, address: str) -> int:
        """Where ``address`` is or would go in ``resources``, which are sorted by address
        (``from_dict`` sorts them and every copy keeps them so)."""
        return bisect.bisect_left(self.resources, address, key=_by_address)

    def _holds(self, index: int, address: str) -> bool:
        return index < len(self.resources) and self.resources[index].address == address

    def secret_digest(self, value: str) -> str:
        """``secret_digest`` with this state's key."""
        return secret_digest(bytes.fromhex(self.digest_key), value)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the file (``stack`` only when known)."""
        out: dict[str, Any] = {
            "formatVersion": FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "digestKey": self.digest_key,
            "resources": [resource.to_dict() for resource in self.resources],
        }
        if self.stack is not None:
            out["stack"] = self.stack.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        """The value of a schema-valid JSON document."""
        resources = (ResourceState.from_dict(item) for item in data["resources"])
        return cls(
            lineage=data["lineage"],
            serial=data["serial"],
            digest_key=data["digestKey"],
            resources=tuple(sorted(resources, key=_by_address)),
            stack=StackIdentity.from_dict(data["stack"]) if "stack" in data else None,
        )


def _by_address(resource: ResourceState) -> str:
    return resource.address
