"""Summarise the server's own time per request from its log (LAVKA_SERVER_TIMING=1):
lines such as

    ... lavka.timing: server-timing GET /clients/ 200 app=12.3ms cpu=9.8ms db=4.1ms queries=7

read from stdin (run.sh passes the part of the log written during one wrk run).
Prints the number of requests, the app time's p50/p90/p99/max, the worker's CPU time
per request (p50/p99), the SQL time's p50/p99 and the median number of queries. `app`
is the time inside Django, from the first middleware to the rendered response: what wrk
measures minus the wait for a free worker and the network; `cpu` leaves out the time
the worker waited for a processor (2 cores, 4 workers, PostgreSQL and wrk) or for
PostgreSQL."""

from __future__ import annotations

import math
import re
import statistics
import sys

LINE = re.compile(
    r"server-timing \S+ (\S+) (\d+) app=([\d.]+)ms cpu=([\d.]+)ms db=([\d.]+)ms queries=(\d+)"
)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def main() -> None:
    app: list[float] = []
    cpu: list[float] = []
    db: list[float] = []
    queries: list[int] = []
    statuses: dict[str, int] = {}
    for line in sys.stdin:
        found = LINE.search(line)
        if not found:
            continue
        statuses[found[2]] = statuses.get(found[2], 0) + 1
        app.append(float(found[3]))
        cpu.append(float(found[4]))
        db.append(float(found[5]))
        queries.append(int(found[6]))
    if not app:
        print("server time: no requests logged (is LAVKA_SERVER_TIMING=1 set?)")
        return
    print(
        f"server time: {len(app)} requests (status {statuses}), "
        f"app p50 {percentile(app, 50):.1f} ms, p90 {percentile(app, 90):.1f} ms, "
        f"p99 {percentile(app, 99):.1f} ms, max {max(app):.1f} ms; "
        f"CPU p50 {percentile(cpu, 50):.1f} ms, p99 {percentile(cpu, 99):.1f} ms; "
        f"SQL p50 {percentile(db, 50):.1f} ms, p99 {percentile(db, 99):.1f} ms; "
        f"queries per request {statistics.median(queries):g}"
    )


if __name__ == "__main__":
    main()
