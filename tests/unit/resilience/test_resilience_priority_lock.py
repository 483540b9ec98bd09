import asyncio

from krakenbot.net.priority import PriorityLock


async def test_waiters_are_served_by_priority_then_fifo() -> None:
    lock = PriorityLock()
    await lock.acquire(5)
    order: list[str] = []

    async def worker(name: str, prio: int) -> None:
        await lock.acquire(prio)
        order.append(name)
        lock.release()

    tasks = [
        asyncio.create_task(worker(n, p))
        for n, p in [("query1", 2), ("order", 1), ("query2", 2), ("cancel", 0)]
    ]
    for _ in range(3):
        await asyncio.sleep(0)
    lock.release()
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert order == ["cancel", "order", "query1", "query2"]
    assert not lock.locked


async def test_a_cancelled_waiter_does_not_leak_the_lock() -> None:
    lock = PriorityLock()
    await lock.acquire(0)
    waiter = asyncio.create_task(lock.acquire(1))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    lock.release()
    assert not lock.locked
    await asyncio.wait_for(lock.acquire(0), 1)
    assert lock.locked
