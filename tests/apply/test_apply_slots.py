"""Who gets a free slot: bounded, one step per key, and the step holding back the most others
first, so an account's chain of writes is not starved by steps that could run any time."""

from __future__ import annotations

import asyncio

from apply_support import Harness, foundry_deployment, model_deployment

from aimodels.apply.events import Phase
from aimodels.apply.slots import Slots

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
