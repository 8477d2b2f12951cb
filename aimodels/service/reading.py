"""What every read command (``models``, ``deployments``, ``uploads``, ``access``, ``chat``,
``cost``, ``availability``) starts from: the manifests' Stack, the parents they name, and what
this state manages.

Read commands never write to Azure and never take the state lock; they read the state file only
to mark which live resources it manages (``cost`` and ``availability`` read the catalog only,
so they do not read it at all: ``run_on_stack``). Loading uses ``strict_env=False``: a read
command does not need the credentials a ModelSource takes from the environment, so an unset
one is a warning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aimodels.apply.entries import registered_versions
from aimodels.errors import AimodelsError, Diagnostic, warning
from aimodels.live import paths
from aimodels.manifest import load_manifests
from aimodels.model.arm import arm_parents
from aimodels.model.desired import DesiredState, Stack
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.service.connection import connect, parents_named
from aimodels.service.planning import stack_backend
from aimodels.service.runner import run
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError, unexpected_shapes

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReadTarget:
    """Where a read command looks: the ``-f`` paths, the endpoint override and the environment."""

    paths: tuple[str, ...]
    endpoint: str | None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReadScope:
    """The Stack, the AI managers and Foundry accounts worth listing, and the managed ids.

    ``ai_managers`` and ``accounts`` are those the Stack, the manifests and the state name, in
    the Stack's subscription and resource group. ``managed`` maps a lower-cased resource id to
    the state address that manages it. Not a desired state: read commands show what is live.
    ``managed_versions`` maps a custom model's lower-cased id (``/custom-models/{name}``) to
    the versions aimodels registered for it and has not deleted (state).
    """

    desired: DesiredState
    ai_managers: tuple[str, ...]
    accounts: tuple[str, ...]
    managed: Mapping[str, str]
    warnings: tuple[Diagnostic, ...] = ()
    managed_versions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def stack(self) -> Stack:
        return self.desired.stack

    def manager_path(self, ai_manager: str) -> str:
        """The AI manager's path (``live.paths``, as every path below)."""
        return paths.manager_path(self.stack, ai_manager)

    def namespace_path(self, ai_manager: str, namespace: str) -> str:
        return paths.namespace_path(self.manager_path(ai_manager), namespace)

    def account_path(self, account: str) -> str:
        return paths.account_path(self.stack, account)

    def catalog_path(self) -> str:
        return paths.catalog_path(self.stack)

    def managed_address(self, resource_id: str) -> str | None:
        """The state address managing ``resource_id``, or None when this state does not."""
        return self.managed.get(resource_id.lower())

    def missing_parent(self, what: str, name: str, consequence: str) -> Diagnostic:
        """The warning for a parent (``AI manager``, ``Foundry account``) that is not there:
        where it was looked for, and what the command leaves out because of it."""
        stack = self.stack
        return warning(f"{what} {name} not found in resource group {stack.resource_group} of "
                       f"subscription {stack.subscription_id}; {consequence}")


async def list_or_empty(client: AzureClient, path: str) -> list[Any]:
    """A list, or nothing when its parent vanished between two calls."""
    try:
        return await client.list_all(path)
    except NotFoundError:
        return []


def load_scope(target: ReadTarget) -> ReadScope:
    """Load the manifests and the state (read only) into a ReadScope."""
    loaded = load_manifests(target.paths or (".",), env=target.env, strict_env=False)
    desired = loaded.desired
    with stack_backend(desired, target.env) as backend:
        state = backend.read()
    managed = {r.resource_id.lower(): r.address for r in state.resources}
    managers, accounts = parents_named(desired)
    from_state = _parents_in_state(desired.stack, managed)
    return ReadScope(
        desired=desired,
        ai_managers=_names(desired.stack.ai_manager, managers, from_state["aimanagers"]),
        accounts=_names(desired.stack.foundry_account, accounts, from_state["accounts"]),
        managed=managed,
        warnings=tuple(loaded.warnings),
        managed_versions={r.resource_id.lower(): registered_versions(r)
                          for r in state.resources if r.address.startswith(f"{CUSTOM_MODEL}/")},
    )


def run_read(target: ReadTarget, work: Callable[[ReadScope, AzureClient], Awaitable[T]],
             **client_options: Any) -> tuple[ReadScope, T]:
    """Load the scope, connect to the Stack's target, and run ``work`` (one event loop).

    ``work`` is reading: Azure's answers turned into rows. A field of the wrong type in an
    answer is therefore an unexpected response (exit 5), whichever row it broke.
    """
    scope = load_scope(target)
    return scope, _run_connected(scope.desired, target.endpoint,
                                 lambda client: work(scope, client), **client_options)


def run_on_stack(target: ReadTarget, work: Callable[[AzureClient, Stack], Awaitable[T]]) -> T:
    """Load the manifests for their Stack only (no state: catalog reads need none), connect
    where it points (or ``target.endpoint``), and run ``work`` as ``run_read`` does."""
    desired = load_manifests(target.paths or (".",), env=target.env, strict_env=False).desired
    return _run_connected(desired, target.endpoint, lambda client: work(client, desired.stack))


def _run_connected(desired: DesiredState, endpoint: str | None,
                   work: Callable[[AzureClient], Awaitable[T]], **client_options: Any) -> T:
    """``work`` on a client connected to the Stack's target, in one event loop; a field of
    the wrong type in an answer it reads is an unexpected response (exit 5)."""
    async def main() -> T:
        async with connect(desired, endpoint, **client_options) as client:
            with unexpected_shapes("Azure"):
                return await work(client)

    return run(main())


def registry_reachable(client: AzureClient) -> bool:
    """Whether registry paths resolve: an endpoint override, or the Stack's registry URL."""
    return client.config.origin is not None or bool(client.config.registry_endpoint)


def require_registry(client: AzureClient) -> None:
    """Raise when the custom-model registry has no URL (azure target without one in the Stack)."""
    if not registry_reachable(client):
        raise AimodelsError(
            "The Stack names no custom-model registry, so there is nothing to list",
            hint="Set spec.customModelRegistry in the Stack (the custom-model registry "
                 "endpoint, the FDP API the Azure CLI calls).",
        )


def _parents_in_state(stack: Stack, managed: Mapping[str, str]) -> dict[str, set[str]]:
    """AI managers and accounts of state resource ids in the Stack's subscription and group."""
    prefix = (f"/subscriptions/{stack.subscription_id}/resourcegroups/"
              f"{stack.resource_group}/providers/").lower()
    found: dict[str, set[str]] = {"aimanagers": set(), "accounts": set()}
    for resource_id in managed:
        if not resource_id.startswith(prefix):
            continue
        parents = arm_parents(resource_id)
        for kind, names in found.items():
            if parents.get(kind):
                names.add(parents[kind])
    return found


def _names(default: str | None, *more: Iterable[str]) -> tuple[str, ...]:
    """Names without duplicates (ARM names compare case-insensitively), the default first."""
    seen: dict[str, str] = {}
    for name in [default or "", *(n for group in more for n in sorted(group))]:
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return tuple(seen.values())
