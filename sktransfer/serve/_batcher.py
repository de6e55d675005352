"""Micro-batching: concurrent requests gathered into one forward pass.

A network computes a batch of 32 items in far less than 32 times the time of
one, so a server that runs each request alone wastes most of its throughput
under load. Requests wait in a queue; one task takes the first, then keeps
taking requests until ``max_batch_size`` items are gathered or ``max_wait_ms``
have passed since the first, and runs the model once on all of them, in one
worker thread, so the event loop keeps accepting requests meanwhile. When a
batch fails (one request's bad item), each of its requests runs again alone,
so that the bad item fails its own request and no other.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class _Pending:
    items: list
    future: asyncio.Future
    arrived: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Gathers the items of concurrent requests into batches for ``predict``.

    Parameters
    ----------
    predict : callable
        ``predict(items) -> (labels, probabilities or None)`` for a list of items.
    max_batch_size : int
        Most items in one call of ``predict``. A request never waits for more
        than this, and is never split.
    max_wait_ms : float
        Longest time the first request of a batch waits for others.
    on_error : callable
        ``on_error(exception, items) -> Exception`` turns the failure of one
        request, run alone, into what its caller receives.

    Attributes
    ----------
    batches, items : int
        Calls of ``predict`` made and items predicted, for the metrics.
    """

    def __init__(self, predict, *, max_batch_size, max_wait_ms, on_error):
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.on_error = on_error
        self.batches = self.items = 0
        self._queue = None
        self._held = None  # a request that did not fit the last batch: first in the next
        self._task = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sktransfer-model")

    def start(self):
        """Start gathering; call from the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def submit(self, items):
        """Labels and probabilities of ``items`` (a list), predicted in some batch."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(list(items), future))
        return await future

    async def _gather(self):
        first, self._held = self._held, None
        if first is None:
            first = await self._queue.get()
        batch, count = [first], len(first.items)
        deadline = first.arrived + self.max_wait
        while count < self.max_batch_size:
            try:
                pending = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                timeout = deadline - time.perf_counter()
                if timeout <= 0:
                    break
                try:
                    pending = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    break
            if count + len(pending.items) > self.max_batch_size:
                self._held = pending
                break
            batch.append(pending)
            count += len(pending.items)
        return batch

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            batch = [pending for pending in await self._gather() if not pending.future.done()]
            if not batch:  # every client of this batch went away
                continue
            items = [item for pending in batch for item in pending.items]
            try:
                labels, proba = await loop.run_in_executor(self._executor, self.predict, items)
            except Exception:
                await self._run_alone(batch)
                continue
            self.batches += 1
            self.items += len(items)
            start = 0
            for pending in batch:
                stop = start + len(pending.items)
                if not pending.future.done():
                    rows = None if proba is None else proba[start:stop]
                    pending.future.set_result((labels[start:stop], rows))
                start = stop

    async def _run_alone(self, batch):
        loop = asyncio.get_running_loop()
        for pending in batch:
            if pending.future.done():  # its client went away
                continue
            try:
                result = await loop.run_in_executor(self._executor, self.predict, pending.items)
            except Exception as exc:
                if not pending.future.done():
                    pending.future.set_exception(self.on_error(exc, pending.items))
                continue
            self.batches += 1
            self.items += len(pending.items)
            if not pending.future.done():
                pending.future.set_result(result)
