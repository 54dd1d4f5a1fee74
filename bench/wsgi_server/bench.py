"""Measure WSGI servers serving Lavka: gunicorn (sync and gthread workers) and granian
(WSGI interface), on Lavka's login page and on one static file served by WhiteNoise.

Each server runs pinned to the given CPUs (taskset), is warmed up, then loaded with
`wrk` for --duration seconds per URL. Prints a Markdown table; --json writes the raw
numbers too. See README.md for the exact commands and the results.

    .venv/bin/python bench/wsgi_server/bench.py --duration 30 --connections 16 --workers 4
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = "lavka_bench_app:application"  # lavka.config.wsgi, imported under a lock: see the module


def servers(port: int, workers: int, threads: int) -> dict[str, list[str]]:
    python = sys.executable
    granian = str(Path(python).parent / "granian")
    gunicorn = [
        python,
        "-m",
        "gunicorn",
        APP,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    return {
        "gunicorn sync": [*gunicorn, "--worker-class", "sync"],
        "gunicorn gthread": [*gunicorn, "--worker-class", "gthread", "--threads", str(threads)],
        "granian wsgi": [
            granian,
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            APP,
        ],
        "granian wsgi, blocking threads": [
            granian,
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--log-level",
            "warning",
            APP,
        ],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not listen on {port} within {timeout}s")


def status_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return int(response.status)


LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    url: str, *, duration: int, connections: int, threads: int, cpus: str, close: bool = False
) -> dict:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if close:
        # A new connection per request, as from a proxy that does not keep connections open.
        argv[1:1] = ["-H", "Connection: close"]
    if cpus and shutil.which("taskset"):
        argv = ["taskset", "-c", cpus, *argv]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latencies = {f"p{p}": round(float(v) * UNIT[u], 2) for p, v, u in LATENCY.findall(out)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": round(rps, 1),
        **latencies,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
        "raw": out,
    }


def process_tree(pid: int) -> set[int]:
    """`pid` and every process below it (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    tree, frontier = {pid}, {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        tree |= frontier
    return tree


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and every process below it."""
    total_kib = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total_kib += int(match.group(1)) if match else 0
    return round(total_kib / 1024, 1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    lavka = [sys.executable, "-m", "lavka.cli"]
    subprocess.run([*lavka, "migrate"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [*lavka, "manage", "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per URL")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="server processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per process (gthread, granian blocking threads)",
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--cpus", default="0,1", help="CPUs for servers and wrk (taskset -c)")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/lavka-bench"))
    parser.add_argument(
        "--static", default="/static/lavka/app.css", help="path of the static file to fetch"
    )
    parser.add_argument("--only", action="append", help="run only these servers (repeatable)")
    parser.add_argument(
        "--modes",
        default="keep-alive,close",
        help="keep-alive: wrk reuses connections; close: one per request",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="repeat everything; the table shows medians"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    # Stopping the benchmark with SIGTERM still stops the server it started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LAVKA_DATA_DIR": str(args.data_dir),
        "LAVKA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    }
    for name in ("DJANGO_SETTINGS_MODULE", "LAVKA_DEBUG", "LAVKA_TESTING"):
        env.pop(name, None)
    prepare(args.data_dir, env)

    port = free_port()
    paths = {"login page": "/login/", "static file": args.static}
    chosen = {
        name: argv
        for name, argv in servers(port, args.workers, args.threads).items()
        if not args.only or name in args.only
    }
    results = []
    for round_no in range(args.rounds):
        # Rotate the order, so that no server always runs first (or last) in a round.
        names = list(chosen)[round_no % len(chosen) :] + list(chosen)[: round_no % len(chosen)]
        for name in names:
            results += measure(
                name, chosen[name], port=port, paths=paths, env=env, args=args, round_no=round_no
            )
    report(results, args)


def measure(
    name: str,
    argv: list[str],
    *,
    port: int,
    paths: dict[str, str],
    env: dict[str, str],
    args: argparse.Namespace,
    round_no: int,
) -> list[dict]:
    if shutil.which("taskset"):
        argv = ["taskset", "-c", args.cpus, *argv]
    results = []
    log_name = f"{name.replace(' ', '-').replace(',', '')}.log"
    with open(args.data_dir / log_name, "ab") as log:
        proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
        )
        try:
            wait_until_listening(port, proc)
            time.sleep(2)  # let every worker finish importing Django
            processes = len(process_tree(proc.pid))
            for mode in args.modes.split(","):
                for what, path in paths.items():
                    url = f"http://127.0.0.1:{port}{path}"
                    if status_of(url) != 200:
                        raise SystemExit(f"{name}: {url} does not answer 200")
                    load = {
                        "connections": args.connections,
                        "threads": args.wrk_threads,
                        "cpus": args.cpus,
                        "close": mode == "close",
                    }
                    run_wrk(url, duration=args.warmup, **load)
                    result = run_wrk(url, duration=args.duration, **load)
                    result["rss_mib"] = rss_mib(proc.pid)
                    result["processes"] = len(process_tree(proc.pid))
                    if result["processes"] < processes or processes < args.workers + 1:
                        raise SystemExit(
                            f"{name}: workers died ({processes} processes at start, "
                            f"{result['processes']} now); see its log"
                        )
                    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
                    results.append(
                        {"round": round_no + 1, "server": name, "mode": mode, "url": what, **result}
                    )
                    print(
                        f"round {round_no + 1}  {name:<32} {mode:<10} {what:<12}"
                        f" {result['rps']:>9} req/s  p50 {result['p50']} ms"
                        f"  p99 {result['p99']} ms  non-2xx {result['non_2xx']}"
                        f"  RSS {result['rss_mib']} MiB  load {result['load_avg_1m']}"
                        f"  {result['socket_errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            stop(proc)
    time.sleep(1)
    return results


def report(results: list[dict], args: argparse.Namespace) -> None:
    """A Markdown table: the median of the rounds, and the range of requests/s."""
    print(
        f"\n{args.workers} processes, {args.threads} threads where used, {args.connections} "
        f"connections, {args.duration} s per run, {args.rounds} rounds, CPUs {args.cpus}; "
        "medians of the rounds\n"
    )
    print(
        "| server | connections | URL | requests/s (range) | p50 ms | p99 ms | errors | RSS MiB |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["server"], r["mode"], r["url"]), []).append(r)
    for (server, mode, url), runs in groups.items():
        rps = [r["rps"] for r in runs]
        spread = f" ({min(rps):.0f}-{max(rps):.0f})" if len(runs) > 1 else ""
        print(
            f"| {server} | {mode} | {url} | {statistics.median(rps):.0f}{spread} "
            f"| {statistics.median(r['p50'] for r in runs):.1f} "
            f"| {statistics.median(r['p99'] for r in runs):.1f} "
            f"| {sum(r['non_2xx'] for r in runs)} "
            f"| {statistics.median(r['rss_mib'] for r in runs):.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
