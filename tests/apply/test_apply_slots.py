"""Who gets a free slot: bounded, one step per key, and the step holding back the most others
first, so an account's chain of writes is not starved by steps that could run any time."""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter

from apply_support import Harness, foundry_deployment, model_deployment
from hypothesis import given, settings
from hypothesis import strategies as st

from aimodels.apply.events import Phase
from aimodels.apply.slots import Slots, _Waiter

STEP = 0.01


async def run_all(slots: Slots, steps: list[tuple[str, str | None, int]]) -> list[str]:
    """Run each ``(name, key, weight)`` for STEP seconds under ``slots``; the start order.
    Also checks the limits: never more than the slots, never two steps of one key."""
    order: list[str] = []
    running: list[tuple[str, str | None]] = []

    async def step(name: str, key: str | None, weight: int) -> None:
        async with slots.hold(key, weight):
            running.append((name, key))
            keys = [k for _, k in running if k is not None]
            assert len(keys) == len(set(keys)), running
            order.append(name)
            await asyncio.sleep(STEP)
            running.remove((name, key))

    await asyncio.gather(*(step(*s) for s in steps))
    return order


def test_an_accounts_next_write_gets_the_slot_before_steps_without_a_key() -> None:
    steps = [*((f"a{i}", "account", 0) for i in range(4)),
             *((f"k{i}", None, 0) for i in range(6))]

    order = asyncio.run(run_all(Slots(2), steps))

    # Two slots, ten steps, four of them one after another: five rounds are enough only if
    # the account's chain never waits; FIFO would run it after the six others.
    assert order == ["a0", "k0", "a1", "k1", "a2", "k2", "a3", "k3", "k4", "k5"]


def test_the_longest_account_queue_goes_first() -> None:
    steps = [("short0", "short", 0), *((f"long{i}", "long", 0) for i in range(3))]

    order = asyncio.run(run_all(Slots(1), steps))

    assert order == ["short0", "long0", "long1", "long2"]  # short0 came first and found it free
    order = asyncio.run(run_all(Slots(1), [("first", None, 0), *steps]))
    assert order[:2] == ["first", "long0"]


def test_a_step_with_dependents_goes_before_earlier_arrivals() -> None:
    steps = [("holder", None, 0), ("leaf0", None, 0), ("leaf1", None, 0), ("root", None, 5)]

    order = asyncio.run(run_all(Slots(1), steps))

    assert order == ["holder", "root", "leaf0", "leaf1"]


def test_a_cancelled_waiter_leaves_no_slot_or_key_behind() -> None:
    async def scenario() -> tuple[list[str], Slots]:
        slots = Slots(1)
        release = asyncio.Event()

        async def holder() -> None:
            async with slots.hold("account"):
                await release.wait()

        async def never() -> None:
            async with slots.hold("account"):
                raise AssertionError("a cancelled waiter ran")

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(never())
        await asyncio.sleep(0)
        waiter.cancel()
        release.set()
        await first
        assert waiter.cancelled()
        after = [("after", "account", 0), ("other", None, 0)]
        return await asyncio.wait_for(run_all(slots, after), timeout=5), slots

    order, slots = asyncio.run(scenario())

    assert order == ["after", "other"]
    assert (slots.free, slots.busy, slots.waiting) == (1, set(), [])


def test_apply_gives_an_accounts_next_write_the_slot_its_last_one_freed(
        harness: Harness) -> None:
    desired = harness.desired(
        *(foundry_deployment(f"gpt-{i}", sku={"name": "GlobalStandard", "capacity": 1})
          for i in range(3)),
        *(model_deployment(f"chat-{i}") for i in range(6)))

    result = harness.apply(harness.plan(desired), desired, parallelism=2)

    assert result.complete, [c.message for c in result.failed]
    timeline = [(e.phase, str(e.address)) for e in harness.events
                if e.phase is Phase.STARTED or e.phase.is_final]
    for i in range(2):
        ended = timeline.index((Phase.DONE, f"FoundryDeployment/gpt-{i}"))
        started = timeline.index((Phase.STARTED, f"FoundryDeployment/gpt-{i + 1}"))
        between = [a for phase, a in timeline[ended:started] if phase is Phase.STARTED]
        # At most the one step granted the other slot just before gpt-i released its own; in
        # arrival order, all six ModelDeployments would start before gpt-1.
        assert len(between) <= 1, f"{between} started while gpt-{i + 1} waited"


class _ScanSlots(Slots):
    """The scan the heaps replaced (every waiter looked at on every grant), as the oracle of
    the order: the heaps must grant exactly the same steps in exactly the same order."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.queue: list[_Waiter] = []

    def _enqueue(self, waiter: _Waiter) -> None:
        self.queue.append(waiter)

    def _leave(self, waiter: _Waiter) -> None:
        self.queue.remove(waiter)

    def _dispatch(self) -> None:
        while self.free > 0:
            queued = Counter(w.key for w in self.queue if w.key is not None)
            eligible = [w for w in self.queue if w.key is None or w.key not in self.busy]
            if not eligible:
                return
            best = min(eligible, key=lambda w: (-(w.weight + queued[w.key] - 1
                                                  if w.key is not None else w.weight), w.order))
            self.queue.remove(best)
            self.free -= 1
            if best.key is not None:
                self.busy.add(best.key)
            best.granted.set_result(None)


async def _grants(slots: Slots, steps: list[tuple[str | None, int, int, int]]) -> list[int]:
    """Steps ``(key, weight, arrival yields, held yields)`` arriving and holding for a number
    of event-loop turns; the order in which they got their slot."""
    order: list[int] = []

    async def step(index: int, key: str | None, weight: int, late: int, held: int) -> None:
        for _ in range(late):
            await asyncio.sleep(0)
        async with slots.hold(key, weight):
            order.append(index)
            for _ in range(held):
                await asyncio.sleep(0)

    await asyncio.gather(*(step(i, *s) for i, s in enumerate(steps)))
    return order


STEPS = st.lists(st.tuples(st.sampled_from([None, None, "a", "b", "c"]), st.integers(0, 3),
                           st.integers(0, 4), st.integers(0, 4)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), STEPS)
def test_the_heaps_grant_in_the_order_of_a_scan_of_every_waiter(
        limit: int, steps: list[tuple[str | None, int, int, int]]) -> None:
    assert asyncio.run(_grants(Slots(limit), steps)) == \
        asyncio.run(_grants(_ScanSlots(limit), steps))


def test_granting_a_slot_to_thousands_of_waiters_stays_linear() -> None:
    """An apply queues every step at once: a scan of the waiters per grant was O(N²) (8x the
    waiters cost about 60x then; linear is 8x). The collector is off while timing, so that
    one of its pauses does not land in one measurement."""
    def cost(count: int) -> float:
        steps = [(None if i % 3 else "account", i % 2, 0, 1) for i in range(count)]
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            asyncio.run(_grants(Slots(10), steps))
            best = min(best, time.process_time() - started)
        return best

    gc.disable()
    try:
        small, large = cost(500), cost(4_000)
    finally:
        gc.enable()
    assert large < 24 * small, f"8x the waiters cost {large / small:.1f}x (linear: about 8x)"
