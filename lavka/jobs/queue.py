"""Enqueueing background tasks only once the writing transaction has committed.

A task enqueued inside a transaction that later rolls back would run against rows
that never existed; `enqueue_on_commit` defers the enqueue to after commit (and runs
it at once when there is no transaction).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task(*args, **kwargs))
