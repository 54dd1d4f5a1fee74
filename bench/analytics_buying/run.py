"""Benchmark: the `buying` report (who buys what and when) on the benchmark base of
bench/analytics_recompute (1,000,000 clients, 10,000,000 orders, 10,000,000 lines over
2,000 products in 40 categories). See README.md.

    flock /tmp/bench.lock .venv/bin/python bench/analytics_buying/run.py --repeat 3

In this process: the recompute's load and client computation (as `analytics_recompute`
does them, not timed here), then `lavka.analytics.buying.report` on a run of its own
(status "running", never current, deleted afterwards with its rows), timed as a whole
and piece by piece (cycles, co-purchase, the COPY of the rows). Memory: the peak
resident size during the report above what the process held before it, sampled every
5 ms from /proc/self/statm.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgresql://postgres@127.0.0.1:5432"


def _rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    """The largest RSS seen while inside the `with` block."""

    def __enter__(self) -> Peak:
        self.base = _rss_mib()
        self.peak = self.base
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_mib())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, _rss_mib())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--as-of", default="2026-11-23")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(f"/tmp/{args.database}-data")
    data_dir.mkdir(exist_ok=True)
    os.environ["LAVKA_DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ["LAVKA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()

    import datetime as dt

    import numpy as np
    from django.utils import timezone

    from lavka.analytics import buying
    from lavka.analytics.compute import Steps, compute_clients
    from lavka.analytics.engine import copurchase, cycles
    from lavka.analytics.loading import convert_to_reporting, load_lines, load_orders
    from lavka.analytics.models import ClientInsight, ComputeRun
    from lavka.analytics.reports import ReportContext
    from lavka.analytics.services import analytics_settings, config_from
    from lavka.identity.models import User

    as_of = dt.date.fromisoformat(args.as_of)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    run = ComputeRun.objects.create(as_of=as_of, started_at=timezone.now(), currency="RUB")
    try:
        orders = load_orders(as_of, run.currency)
        lines = load_lines(orders)
        converted = convert_to_reporting(orders, run.currency).columns
        converted_lines = convert_to_reporting(lines, run.currency).columns
        del orders, lines
        stored = analytics_settings()
        config = config_from(stored)
        clients = compute_clients(converted, as_of, config, Steps())
        prepared = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "prepared_seconds": round(prepared, 1),
                    "clients": len(clients),
                    "lines": len(converted_lines),
                    "lines_read_by": converted_lines.method,
                    "rss_mib": round(_rss_mib()),
                }
            ),
            flush=True,
        )
        results = []
        for attempt in range(args.repeat):
            context = ReportContext(
                run=run,
                as_of=as_of,
                config=config,
                settings=stored,
                orders=converted,
                lines=converted_lines,
                clients=clients,
            )
            load = Path("/proc/loadavg").read_text().split()[:3]
            with Peak() as peak:
                start = time.perf_counter()
                summary = buying.report(context)
                wall = time.perf_counter() - start
            # The pieces, again, on the same arrays (not part of the figure above).
            purchases = buying.purchases_load(as_of, converted_lines)
            ids, category_of, _ = buying._catalogue()
            at = np.searchsorted(ids, purchases.product)
            category = category_of[np.minimum(at, ids.size - 1)]
            t0 = time.perf_counter()
            found = cycles.category_cycles(purchases.client, category, purchases.day)
            cycles.due_categories(found, (as_of - dt.date(1970, 1, 1)).days)
            t1 = time.perf_counter()
            basket = copurchase.baskets(purchases.client, purchases.product)
            t2 = time.perf_counter()
            assoc = copurchase.associations(basket)
            t3 = time.perf_counter()
            copurchase.suggest(basket, assoc)
            t4 = time.perf_counter()
            rows = ClientInsight.objects.filter(run=run).count()
            # The due list's two queries for a viewer who sees the whole base.
            admin = User.objects.get(username="benchadmin")
            t5 = time.perf_counter()
            listed = buying._due_queryset(
                viewer=admin,
                run=run,
                within_days=14,
                owner=None,
                team=None,
                category=None,
                today=as_of,
            )
            due_total = listed.count()
            t5b = time.perf_counter()
            capped = listed.select_related(None).order_by()[: buying.COUNT_CAP + 1].count()
            t6 = time.perf_counter()
            first_page = [buying._row(item, as_of) for item in listed[:50]]
            t7 = time.perf_counter()
            assert summary is not None
            results.append(
                {
                    "attempt": attempt + 1,
                    "report_seconds": round(wall, 3),
                    "peak_rss_above_base_mib": round(peak.peak - peak.base),
                    "base_rss_mib": round(peak.base),
                    "cycles_seconds": round(t1 - t0, 3),
                    "baskets_seconds": round(t2 - t1, 3),
                    "associations_seconds": round(t3 - t2, 3),
                    "suggest_seconds": round(t4 - t3, 3),
                    "rows_written": rows,
                    "due_14_days": due_total,
                    "due_count_exact_seconds": round(t5b - t5, 3),
                    "due_count_capped_seconds": round(t6 - t5b, 3),
                    "due_count_capped": capped,
                    "due_page_seconds": round(t7 - t6, 3),
                    "due_page_rows": len(first_page),
                    "loadavg_before": load,
                    "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
                    "report_steps": summary["seconds"],
                    "summary": {
                        k: summary[k]
                        for k in (
                            "clients",
                            "lines",
                            "products",
                            "with_cycle",
                            "with_due_category",
                            "with_offer",
                            "overdue",
                            "due_within",
                            "read_by",
                        )
                    },
                    "top_pair": summary["pairs"][:1],
                    "cycle_of_first_category": summary["categories"][:1],
                }
            )
            print(json.dumps(results[-1]), flush=True)
        print(
            json.dumps(
                {
                    "median_report_seconds": statistics.median(
                        r["report_seconds"] for r in results
                    ),
                    "max_peak_rss_above_base_mib": max(
                        r["peak_rss_above_base_mib"] for r in results
                    ),
                    "loadavg_at_start": load_before,
                }
            )
        )
    finally:
        ClientInsight.objects.filter(run_id=run.pk).delete()
        ComputeRun.objects.filter(pk=run.pk).delete()


if __name__ == "__main__":
    main()
