"""Benchmark: the client list filtered and sorted by the analytics scores at 1,000,000
clients with scores (see README.md).

    flock /tmp/bench.lock .venv/bin/python bench/client_list_scores/run.py \
        [--database lavka_bench_analytics] [--duration 15s] [--connections 8]

Needs a database built by bench/analytics_recompute/run.py setup and at least one
recompute (`run.py run --repeat 1`): the current run's 1M `analytics_clientscore` rows.
Starts `lavka serve` on it with LAVKA_SERVER_TIMING=1, logs in as `benchadmin`, and for
each page of PAGES runs wrk (a warm-up run, then the measured one) and prints wrk's
latency p50/p99 and the server's own time per request (p50/p99, queries) with the load
average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAVKA = str(ROOT / ".venv" / "bin" / "lavka")
SERVER = "postgresql://postgres@127.0.0.1:5432"
USER, PASSWORD = "benchadmin", "bench-Password-2026"  # bench/analytics_recompute setup

sys.path.insert(0, str(ROOT / "bench" / "client_base_load"))
from server_timing import percentile  # noqa: E402

# (name, path): what the dashboard's drill-downs and the list's sort menu ask for.
PAGES = [
    ("ABC-XYZ cell AZ by CLV (144,894 clients)", "/clients/?abc=A&xyz=Z&sort=-clv"),
    ("ABC-XYZ cell AX by CLV (empty here)", "/clients/?abc=A&xyz=X&sort=-clv"),
    ("cell AZ by CLV, page 20", "/clients/?abc=A&xyz=Z&sort=-clv&page=20"),
    ("everyone by CLV", "/clients/?sort=-clv"),
    ("everyone by CLV, lowest first", "/clients/?sort=clv"),
    ("segment at risk, most likely to leave first", "/clients/?segment=at_risk&sort=-leave"),
    ("stage at risk (563 clients here), by name", "/clients/?stage=at_risk"),
    ("probability of leaving 50-100%, by name", "/clients/?leave_min=50"),
    ("the plain list (score columns on)", "/clients/"),
    ("the plain list, its last page (100: rows 4,951-5,000)", "/clients/?page=100"),
    ("everyone by revenue (no index), the last page", "/clients/?sort=-revenue&page=100"),
    ("the plain list, a page far past the end", "/clients/?page=99999"),
]

LINE = re.compile(
    r"server-timing GET (\S+) (\d+) app=([\d.]+)ms cpu=([\d.]+)ms db=([\d.]+)ms queries=(\d+)"
)


def env(database: str) -> dict[str, str]:
    data_dir = Path(f"/tmp/{database}-data")
    data_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "LAVKA_DATABASE_URL": f"{SERVER}/{database}",
        "LAVKA_DATA_DIR": str(data_dir),
        "LAVKA_SERVER_TIMING": "1",
    }


def login(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": USER, "password": PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"}
    )
    opener.open(request).read()
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if not session:
        raise SystemExit("login failed")
    return f"sessionid={session}; csrftoken={csrf}"


def wrk(base: str, path: str, cookie: str, duration: str, connections: int) -> dict[str, str]:
    args = ["wrk", "-t2", f"-c{connections}", "--timeout", "10s", "-H", f"Cookie: {cookie}"]
    out = subprocess.run(
        [*args, f"-d{duration}", "--latency", base + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {m[0]: m[1] for m in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    rate = re.search(r"Requests/sec:\s+(\S+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": found.get("50", "?"),
        "p99": found.get("99", "?"),
        "rps": rate[1] if rate else "?",
        "non2xx": errors[1] if errors else "0",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--warmup", default="3s")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="measure the pages whose path has this")
    args = parser.parse_args()
    log = Path(f"/tmp/{args.database}-data/serve-list-scores.log")
    server = subprocess.Popen(
        [LAVKA, "serve", "--port", str(args.port), "--no-worker", "--workers", str(args.workers)],
        env=env(args.database),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/login/").read()
                break
            except OSError:
                time.sleep(0.5)
        cookie = login(base)
        print(
            f"workers {args.workers}, wrk -t2 -c{args.connections}, {args.duration} per page "
            f"after {args.warmup} warm-up; load average {os.getloadavg()}"
        )
        print("| page | wrk p50 | wrk p99 | req/s | server p50 | server p99 | SQL p99 | queries |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, path in [p for p in PAGES if args.only in p[1]]:
            if args.warmup != "0":
                subprocess.run(
                    [
                        "wrk",
                        "-t2",
                        f"-c{args.connections}",
                        f"-d{args.warmup}",
                        "--timeout",
                        "10s",
                        "-H",
                        f"Cookie: {cookie}",
                        base + path,
                    ],
                    capture_output=True,
                    check=True,
                )
                time.sleep(0.5)
            before = log.stat().st_size
            result = wrk(base, path, cookie, args.duration, args.connections)
            time.sleep(0.5)
            with log.open() as f:
                f.seek(before)
                lines = [m for m in LINE.finditer(f.read())]
            measured = [m for m in lines if m[1] == path]
            app = [float(m[3]) for m in measured] or [float("nan")]
            db = [float(m[5]) for m in measured] or [float("nan")]
            queries = sorted(int(m[6]) for m in measured) or [0]
            print(
                f"| {name} `{path}` | {result['p50']} | {result['p99']} | {result['rps']} | "
                f"{percentile(app, 50):.1f} ms | {percentile(app, 99):.1f} ms | "
                f"{percentile(db, 99):.1f} ms | {queries[len(queries) // 2]} |"
                + (f" non-2xx: {result['non2xx']}" if result["non2xx"] != "0" else ""),
                flush=True,
            )
        print(f"load average after: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
