"""A small dependency graph: topological order, cycles, and the apply steps of a plan.

``Graph`` knows nothing of Azure (Terraform's ``dag``): nodes are any sortable values and each
node lists what it depends on. Orders are deterministic: among nodes ready at the same time
the smallest comes first.

``apply_graph(changes)`` turns a plan's changes into steps (Terraform's apply graph is built
from the diff, never from the manifests): CREATE → ``create``, UPDATE → ``update``, DELETE →
``delete``, a forget → ``forget``, a record (a lifecycle change kept in the state only) →
``record``, and REPLACE → ``delete`` then ``create`` of the same
address (delete-then-create: names are unique within a parent, so the old one must go first).
A CustomModel is the exception: the registry swaps a version for new weights in one call
(``overwrite``), so its REPLACE is a single ``create``. A change that ``retires`` old versions
of a CustomModel gets a ``retire`` step after it (an UPDATE that only retires is that step
alone).

Creates and updates wait for the creates and updates of what they depend on; deletes wait
for the deletes of what depends on them (dependents first, the reverse order). The delete half
of a replacement also waits for the creates and updates of what it depends on when those are
not being deleted themselves: a deployment whose model is registered anew is not taken down
before the new model is there, and stays up if that fails. A ``retire`` waits for every step
of the changes that depend on its CustomModel: they have moved off the old versions by then.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aimodels.model.address import ResourceAddress
from aimodels.model.kinds import CUSTOM_MODEL
from aimodels.plan.values import Action, Change


class SortableNode(Hashable, Protocol):
    """What a node must be: hashable (a dict key) and ordered (ready nodes leave a heap
    smallest first, which keeps every order deterministic)."""

    def __lt__(self, other: Any, /) -> bool: ...


N = TypeVar("N", bound=SortableNode)


class CycleError(ValueError):
    """The graph has a cycle; ``cycle`` is one, as a path that ends where it starts."""

    def __init__(self, cycle: list[Any]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(str(n) for n in cycle))


class Graph(Generic[N]):
    """Nodes and their dependencies. Edges to nodes outside the graph are dropped, so a
    targeted plan's graph holds only what the plan holds."""

    def __init__(self, depends_on: Mapping[N, Iterable[N]]) -> None:
        nodes = set(depends_on)
        self._deps: dict[N, frozenset[N]] = {
            n: frozenset(d for d in deps if d in nodes and d != n)
            for n, deps in depends_on.items()}
        self._dependents: dict[N, set[N]] = {n: set() for n in nodes}
        for node, deps in self._deps.items():
            for dep in deps:
                self._dependents[dep].add(node)

    @property
    def nodes(self) -> list[N]:
        return sorted(self._deps)

    def dependencies(self, node: N) -> frozenset[N]:
        """What ``node`` needs first (direct)."""
        return self._deps[node]

    def dependents(self, node: N) -> frozenset[N]:
        """What needs ``node`` first (direct)."""
        return frozenset(self._dependents[node])

    def ancestors(self, nodes: Iterable[N]) -> set[N]:
        """Everything ``nodes`` depend on, transitively (not including them)."""
        return self._reach(nodes, self._deps)

    def descendants(self, nodes: Iterable[N]) -> set[N]:
        """Everything that depends on ``nodes``, transitively: what to skip when they fail."""
        return self._reach(nodes, self._dependents)

    def find_cycle(self) -> list[N] | None:
        """One cycle as a path ``[a, b, ..., a]``, or ``None`` when there is none."""
        state: dict[N, int] = {}  # 1 = on the current path, 2 = done
        for start in self.nodes:
            found = self._cycle_from(start, state, [])
            if found:
                return found
        return None

    def topological_order(self) -> list[N]:
        """Every node after all its dependencies; raises ``CycleError``."""
        waiting = {n: len(deps) for n, deps in self._deps.items()}
        ready = [n for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[N] = []
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for dependent in self._dependents[node]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    heapq.heappush(ready, dependent)
        if len(order) < len(waiting):
            raise CycleError(self.find_cycle() or [])
        return order

    def reverse_order(self) -> list[N]:
        """Every node before its dependencies: the order to delete in."""
        return list(reversed(self.topological_order()))

    def _reach(self, nodes: Iterable[N], edges: Mapping[N, Iterable[N]]) -> set[N]:
        seen: set[N] = set()
        todo = [n for n in nodes if n in edges]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def _cycle_from(self, node: N, state: dict[N, int], path: list[N]) -> list[N] | None:
        if state.get(node) == 1:
            return [*path[path.index(node):], node]
        if state.get(node) == 2:
            return None
        state[node] = 1
        path.append(node)
        for dep in sorted(self._deps[node]):
            found = self._cycle_from(dep, state, path)
            if found:
                return found
        path.pop()
        state[node] = 2
        return None


@dataclass(frozen=True, slots=True, order=True)
class Step:
    """One unit of apply work: an operation (create, update, delete, forget, record) on an
    address. ``forget`` and ``record`` only write the state."""

    address: ResourceAddress
    operation: str

    def __str__(self) -> str:
        return f"{self.operation} {self.address}"


_OPERATIONS = {Action.CREATE: ("create",), Action.UPDATE: ("update",),
               Action.REPLACE: ("delete", "create"), Action.DELETE: ("delete",)}


#: Kinds whose replacement is one call: the registry swaps a version for new weights
#: (``overwrite``), so there is no delete step.
_REPLACED_IN_ONE_CALL = frozenset({CUSTOM_MODEL})


def steps_of(change: Change) -> tuple[Step, ...]:
    """The steps one change expands to, in the order they must run."""
    if change.is_forget:
        return (Step(change.address, "forget"),)
    if change.is_record:
        return (Step(change.address, "record"),)
    ops = _OPERATIONS.get(change.action, ())
    if change.action is Action.REPLACE and change.address.kind in _REPLACED_IN_ONE_CALL:
        ops = ("create",)
    if change.retires and change.action is not Action.DELETE:
        only_retires = change.action is Action.UPDATE and not change.field_changes
        ops = ("retire",) if only_retires else (*ops, "retire")
    return tuple(Step(change.address, op) for op in ops)


def apply_graph(changes: Iterable[Change]) -> Graph[Step]:
    """The graph apply walks: the steps of every change, ordered as the module doc says."""
    changes = list(changes)
    ops = {c.address: {s.operation for s in steps_of(c)} for c in changes}
    deps: dict[Step, set[Step]] = {s: set() for c in changes for s in steps_of(c)}
    for change in changes:
        here = ops[change.address]
        for dep in change.depends_on:
            there = ops.get(dep, set())
            ready = {Step(dep, o) for o in there & {"create", "update"}}
            for op in here & {"create", "update"}:
                deps[Step(change.address, op)] |= ready
            if "delete" in here and "delete" in there:
                deps[Step(dep, "delete")].add(Step(change.address, "delete"))
            elif "delete" in here and "create" in here:
                deps[Step(change.address, "delete")] |= ready
            if "retire" in there:
                deps[Step(dep, "retire")] |= {Step(change.address, o) for o in here}
        if {"delete", "create"} <= here:
            deps[Step(change.address, "create")].add(Step(change.address, "delete"))
        if "retire" in here:
            deps[Step(change.address, "retire")] |= {Step(change.address, o)
                                                     for o in here - {"retire"}}
    return Graph(deps)
