"""What depends on what among desired resources, and the cycles that would make an order impossible.

Today no kind can reach back to itself (deployments point at sources and custom models, which
point at nothing), so ``find_cycles`` finds none in a valid set; the check stays so a future
reference (a ModelSource fed by a deployment, say) cannot slip a cycle past ``validate``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from aimodels.errors import Diagnostic, error
from aimodels.model.address import ResourceAddress
from aimodels.model.desired import DesiredResource, DesiredState
from aimodels.model.kinds import CUSTOM_MODEL, MODEL_DEPLOYMENT, MODEL_SOURCE

N = TypeVar("N", bound=Hashable)


def references(resource: DesiredResource) -> list[ResourceAddress]:
    """The addresses a resource names in its spec (whether or not they are in the set)."""
    spec = resource.spec
    out = []
    model = spec.get("model")
    if isinstance(model, Mapping) and isinstance(model.get("custom"), str):
        out.append(ResourceAddress(CUSTOM_MODEL, model["custom"]))
    if resource.kind == MODEL_DEPLOYMENT and isinstance(spec.get("modelSource"), str):
        out.append(ResourceAddress(MODEL_SOURCE, spec["modelSource"]))
    return out


def dependencies(desired: DesiredState) -> dict[ResourceAddress, tuple[ResourceAddress, ...]]:
    """For each resource, the resources of the same set it needs first (sorted)."""
    return {addr: tuple(sorted(r for r in references(res) if r in desired.resources))
            for addr, res in sorted(desired.resources.items())}


def find_cycles(edges: Mapping[N, Iterable[N]]) -> list[tuple[N, ...]]:
    """The cycles in ``edges``, found by a depth-first walk: one per back edge, so at least one
    for every group of nodes that depend on each other. A cycle is a path that returns to its
    first node implicitly (``(a, b)`` means a -> b -> a). Iterative: long chains are fine."""
    cycles: list[tuple[N, ...]] = []
    seen_cycles: set[frozenset[N]] = set()
    done: set[N] = set()
    for root in edges:
        if root in done:
            continue
        _walk_from(root, edges, done, cycles, seen_cycles)
    return cycles


def _walk_from(root: N, edges: Mapping[N, Iterable[N]], done: set[N],
               cycles: list[tuple[N, ...]], seen_cycles: set[frozenset[N]]) -> None:
    path: list[N] = [root]
    on_path = {root}
    stack = [iter(edges.get(root, ()))]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            finished = path.pop()
            on_path.discard(finished)
            done.add(finished)
            continue
        if nxt in on_path:
            cycle = tuple(path[path.index(nxt):])
            if frozenset(cycle) not in seen_cycles:
                seen_cycles.add(frozenset(cycle))
                cycles.append(cycle)
        elif nxt not in done:
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(edges.get(nxt, ())))


def cycle_diagnostics(desired: DesiredState) -> list[Diagnostic]:
    """One error per dependency cycle among the desired resources."""
    out = []
    for cycle in find_cycles(dependencies(desired)):
        loop = " -> ".join(str(a) for a in (*cycle, cycle[0]))
        first = desired.resources[cycle[0]]
        out.append(error(f"dependency cycle: {loop}",
                         "Resources are created in dependency order, so a cycle has none: "
                         "remove one of these references.", source=first.source,
                         address=str(cycle[0])))
    return out
