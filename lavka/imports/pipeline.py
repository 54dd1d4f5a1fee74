"""Writing batches on background threads while the caller prepares the next ones.

An import's time goes into two kinds of work that can overlap: the engine's Python
(matching rows, building the inserts) and the database's (index upkeep, constraint
checks). `OrderedWriter` runs each batch's transaction on one of a few threads, each
with its own database connection, and makes them commit strictly in the order the
batches were submitted. So the committed batches are always the first N, the run's
checkpoint (saved inside each batch's transaction) is always true, and a crash or a
failed batch leaves whole batches and a run that resumes where it stopped.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


class BatchAbandoned(Exception):
    """A batch rolled back because an earlier one failed."""


class OrderedWriter:
    """`submit(item)` hands an item to `threads` writer threads, which call
    `write(item, turn)` inside nothing: `write` opens its own transaction, does the
    work, calls `turn()` just before it commits (returns once every earlier item has
    committed; raises BatchAbandoned when one failed) and returns after the commit.

    At most `threads` items wait besides those being written, so memory stays
    bounded. `close()` waits for the rest and raises the first failure."""

    def __init__(
        self,
        *,
        write: Callable[[Any, Callable[[], None]], None],
        threads: int,
        setup: Callable[[], None] | None = None,
    ) -> None:
        """`setup` runs first on each thread (for its database connection)."""
        self._write = write
        self._setup = setup
        self._cond = threading.Condition()
        self._queue: queue.Queue[tuple[int, Any] | None] = queue.Queue(maxsize=threads)
        self._submitted = 0
        self._committed = 0  # items 0 .. _committed - 1 have committed
        self._failed_at: int | None = None
        self._error: BaseException | None = None
        # The audit context (who runs the import, from where) lives in context
        # variables, which new threads do not inherit: hand them over.
        context = contextvars.copy_context()
        self._threads = [
            threading.Thread(target=context.copy().run, args=(self._loop,), daemon=True)
            for _ in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def committed(self) -> int:
        """How many of the submitted items have committed (always the first ones)."""
        with self._cond:
            return self._committed

    def submit(self, item: Any) -> None:
        """Queue an item; blocks while the writers are busy. Raises the failure of an
        earlier item at once, so the caller stops preparing more."""
        self._raise_failure()
        self._queue.put((self._submitted, item))
        self._submitted += 1

    def drain(self) -> None:
        """Wait until everything submitted has committed (or failed: then raise)."""
        with self._cond:
            while self._committed < self._submitted and self._failed_at is None:
                self._cond.wait()
        self._raise_failure()

    def close(self) -> None:
        """Let the queued items finish, stop the threads; raise the first failure."""
        for _thread in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        with self._cond:
            error = self._error
        if error is not None:
            raise error

    def _loop(self) -> None:
        try:
            if self._setup is not None:
                try:
                    self._setup()
                except BaseException as exc:
                    with self._cond:  # every item will be abandoned
                        self._failed_at, self._error = -1, exc
                        self._cond.notify_all()
            while True:
                job = self._queue.get()
                if job is None:
                    return
                seq, item = job
                try:
                    with self._cond:
                        if self._failed_at is not None and self._failed_at < seq:
                            raise BatchAbandoned()
                    self._write(item, lambda seq=seq: self._turn(seq))  # type: ignore[misc]
                except BaseException as exc:
                    with self._cond:
                        if self._failed_at is None or seq < self._failed_at:
                            self._failed_at = seq
                            if not isinstance(exc, BatchAbandoned):
                                self._error = exc
                        self._cond.notify_all()
                    continue
                with self._cond:
                    self._committed = seq + 1
                    self._cond.notify_all()
        finally:
            connection.close()  # this thread's own connection

    def _turn(self, seq: int) -> None:
        with self._cond:
            while self._committed < seq and (self._failed_at is None or self._failed_at > seq):
                self._cond.wait()
            if self._failed_at is not None and self._failed_at < seq:
                raise BatchAbandoned()
