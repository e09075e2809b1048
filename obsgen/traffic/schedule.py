"""Actions at offsets from the run start, on the wall clock: ``obsgen traffic`` ends each span when it ends."""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable


class Timeline:
    """A queue of (offset, action) run in offset order, each no earlier than ``start + offset``.

    Equal offsets run in the order they were pushed. Falling behind (a slow machine, a high rate) runs the late
    actions at once, in order, rather than dropping them: the receiver then sees a burst, not a gap.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self.start = clock()
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.max_lag_s = 0.0
        """How late the latest-run action was, at worst: the sender could not keep up when this grows."""

    def push(self, offset_ns: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (offset_ns, next(self._seq), action))

    def run_until(self, offset_ns: float) -> None:
        """Run every action due at or before ``offset_ns``; then wait until that offset itself."""
        while self._queue and self._queue[0][0] <= offset_ns:
            due, _, action = heapq.heappop(self._queue)
            self._wait(due)
            self.max_lag_s = max(self.max_lag_s, self._clock() - self.start - due / 1e9)
            action()
        if offset_ns != float("inf"):
            self._wait(offset_ns)

    def drain(self) -> None:
        """Run everything left, each at its time."""
        self.run_until(float("inf"))

    def elapsed(self) -> float:
        return self._clock() - self.start

    def _wait(self, offset_ns: float) -> None:
        wait = self.start + offset_ns / 1e9 - self._clock()
        if wait > 0:
            self._sleep(wait)

    def __len__(self) -> int:
        return len(self._queue)
