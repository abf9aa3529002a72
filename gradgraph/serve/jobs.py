"""Symbolic work on user text: in a killable child, off the event loop, a few at a time.

Every job goes through :func:`gradgraph.sandbox.run` (a forked child killed at the
deadline) from a worker thread, so the event loop keeps answering while SymPy works.
At most ``limit`` jobs run at once; up to ``queue`` more wait; beyond that a request
is answered 429 at once instead of piling up behind a hostile graph.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any

import anyio
import anyio.to_thread

from .. import sandbox
from ..graph import Graph
from .http import HTTPProblem

DEFAULT_LIMIT = 2 * (os.cpu_count() or 1)
CHILD_MEMORY_MB = 1024


class Jobs:
    """Runs ``fn(*args)`` in the sandbox under ``deadline`` seconds."""

    def __init__(self, deadline: float, limit: int = DEFAULT_LIMIT, queue: int | None = None):
        self.deadline = deadline
        self.limit = limit
        self.queue = 4 * limit if queue is None else queue
        self.pending = 0  # running or waiting; touched only on the event loop
        self._limiter: anyio.CapacityLimiter | None = None

    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.limit)
        return self._limiter

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a sandboxed child; its (picklable) result."""
        return await self.in_thread(self._sandboxed, fn, args)

    async def in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker thread, counted against the same limits (for work
        that sandboxes itself, such as :func:`gradgraph.check`)."""
        if self.pending >= self.limit + self.queue:
            raise HTTPProblem(429, "http", "the server is busy with other work; try again "
                                           "in a moment")
        self.pending += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter())
        finally:
            self.pending -= 1

    def _sandboxed(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        return sandbox.run(fn, args, timeout=self.deadline, memory_mb=CHILD_MEMORY_MB)


class GraphCache:
    """Graphs a child has built within the deadline, built again here for fast numbers.

    Only text that a sandboxed child has accepted (parsed, compiled and evaluated in
    time) is ever built in the server process; the least recently used graph goes
    first past ``size`` graphs or ``max_nodes`` nodes in all.
    """

    def __init__(self, size: int = 64, max_nodes: int = 200_000):
        self.size, self.max_nodes = size, max_nodes
        self._graphs: OrderedDict[Hashable, Graph] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable) -> Graph | None:
        with self._lock:
            graph = self._graphs.get(key)
            if graph is not None:
                self._graphs.move_to_end(key)
            return graph

    def put(self, key: Hashable, graph: Graph) -> None:
        with self._lock:
            self._graphs[key] = graph
            self._graphs.move_to_end(key)
            while len(self._graphs) > 1 and (
                    len(self._graphs) > self.size
                    or sum(len(g) for g in self._graphs.values()) > self.max_nodes):
                self._graphs.popitem(last=False)

    def __len__(self) -> int:
        return len(self._graphs)


class Results:
    """Answers already computed for identical requests (derivations, diagrams, verdicts
    are functions of the request alone), least recently used dropped first once there
    are ``size`` of them or they weigh more than ``budget`` bytes of JSON."""

    def __init__(self, size: int = 256, budget: int = 32 * 2**20):
        self.size, self.budget = size, budget
        self.weight = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: Hashable, value: Any, weight: int) -> None:
        if weight > self.budget // 8:
            return  # one huge diagram would push out everything else
        if key in self._items:
            self.weight -= self._items.pop(key)[1]
        self._items[key] = (value, weight)
        self.weight += weight
        while len(self._items) > self.size or self.weight > self.budget:
            self.weight -= self._items.popitem(last=False)[1][1]
