"""Server time of each request, for benchmarks and the browser's developer tools.

Off unless `LAVKA_SERVER_TIMING` is on; then every response carries a `Server-Timing`
header (`app`: the whole Django stack, middleware to rendered response; `cpu`: the CPU
time this thread spent on it, which waiting for the processor or the database does not
count; `db`: time in SQL, with the number of queries) and the `lavka.timing` logger
writes one line per
request, which `bench/client_base_load/run.sh` summarises as p50/p99. The time does
not include waiting for a free worker or sending the response: that is what a client
such as wrk adds on top.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("lavka.timing")


class _SqlClock:
    """A database execute wrapper that adds up the time and number of queries."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


class ServerTimingMiddleware:
    """First in MIDDLEWARE, so that it times everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not getattr(settings, "SERVER_TIMING", False):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clock = _SqlClock()
        start = time.perf_counter()
        cpu_start = time.thread_time()
        with connection.execute_wrapper(clock):
            response = self.get_response(request)
        cpu_ms = (time.thread_time() - cpu_start) * 1000
        total_ms = (time.perf_counter() - start) * 1000
        db_ms = clock.seconds * 1000
        response["Server-Timing"] = (
            f"app;dur={total_ms:.1f}, cpu;dur={cpu_ms:.1f}, "
            f'db;dur={db_ms:.1f};desc="{clock.count} queries"'
        )
        logger.info(
            "server-timing %s %s %s app=%.1fms cpu=%.1fms db=%.1fms queries=%d",
            request.method,
            request.get_full_path(),
            response.status_code,
            total_ms,
            cpu_ms,
            db_ms,
            clock.count,
        )
        return response
