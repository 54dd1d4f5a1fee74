"""`lavka demo`, `serve`, `worker` and `migrate`: running the web server and the
background worker, supervised, with graceful stops."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import click

from lavka.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    STOP_TIMEOUT,
    Counter,
    Failure,
    collect_static,
    command,
    database_required,
    django_setup,
    migrations_required,
    prepare,
    run_migrations,
    system_checks,
)

# --- running the web server and the worker -----------------------------------------------


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Web server processes by default: one per core, at least 2 (so that one slow request
# does not hold up every other) and at most 8. Measured with bench/client_base_load
# (1,000,000 clients, 16 connections, PostgreSQL on the same 2-core machine): 2 sync
# workers gave the lowest server time and the most requests per second for the client
# list, card and search; 4 (and gunicorn's usual 2 x cores + 1 = 5) made each request
# wait for a core behind the others, doubling p99 server time for the same throughput.
# A page is CPU-bound Python plus short database waits, so more processes than cores
# only queue on the cores; LAVKA_WEB_WORKERS or --workers overrides it (for instance
# with the database on another machine, where each request waits longer for it).
MIN_WEB_WORKERS = 2
MAX_WEB_WORKERS = 8


def _default_web_workers() -> int:
    from lavka.config.env import env_int

    return env_int("LAVKA_WEB_WORKERS", max(MIN_WEB_WORKERS, min(_cores(), MAX_WEB_WORKERS)))


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _port_required(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Failure(
                f"cannot listen on {_bind(host, port)}: {exc.strerror or exc}",
                "stop whatever uses that address, or choose another with --port",
                EXIT_FAILED,
            ) from None


def _web_argv(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "lavka.config.wsgi:application",
        "--bind",
        _bind(host, port),
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--graceful-timeout",
        str(STOP_TIMEOUT - 5),
        "--timeout",
        "60",
        # Gunicorn's control socket lives in $HOME by default, shared by every instance.
        "--no-control-socket",
        # Load Lavka once, before forking: the workers share its memory, and a broken
        # installation fails at once instead of in every worker.
        "--preload",
    ]
    return [*argv, "--access-logfile", "-"] if access_log else argv


def _worker_argv(threads: int | None) -> list[str]:
    argv = [sys.executable, "-m", "lavka.cli", "worker"]
    return [*argv, "--threads", str(threads)] if threads else argv


def _die_with_parent() -> None:
    """Runs in a child before exec: ask Linux to send it SIGTERM if `lavka` itself dies
    (even by SIGKILL), so no server is left running without its supervisor."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


# Each child stops gracefully on a different signal: gunicorn finishes its requests on
# SIGTERM, the Huey consumer finishes its tasks on SIGINT.
GRACEFUL = {"web": signal.SIGTERM, "worker": signal.SIGINT}
NAMES = {"web": "the web server", "worker": "the background worker"}


def _listening(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in {"0.0.0.0", ""} else "::1" if host == "::" else host  # noqa: S104
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


def _supervise(
    web: list[str],
    others: dict[str, list[str]],
    *,
    host: str,
    port: int,
    on_ready: Callable[[], None],
) -> int:
    """Run the web server, then (once it listens) the other commands, as children, until
    SIGINT/SIGTERM or until one of them stops.

    The children get their own process group, so a Ctrl-C reaches only this process,
    which then asks each child to stop in the way it understands, waits up to
    STOP_TIMEOUT seconds, and kills what is left (a second Ctrl-C kills at once).
    The others start only after the web server has loaded Lavka, because two processes
    reading the settings at the same moment can trip over each other's write probe in
    the data directory (lavka.config.env.data_dir).
    """
    from django.db import connections

    connections.close_all()
    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    failed = ""
    try:
        children["web"] = _spawn(web)
        ready = False
        while not received and not failed:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = f"{NAMES[name]} stopped (exit code {child.returncode})"
            if not ready and not failed and _listening(host, port):
                ready = True
                children.update({name: _spawn(argv) for name, argv in others.items()})
                on_ready()
            time.sleep(0.2)
    finally:
        _stop(children, received)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise Failure(failed, "see its messages above", EXIT_FAILED)
    click.echo("Stopped.")
    return EXIT_OK


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        argv, process_group=0, preexec_fn=_die_with_parent
    )


def _stop(children: dict[str, subprocess.Popen[bytes]], received: list[int]) -> None:
    signals_before = len(received)
    for name, child in children.items():
        if child.poll() is None:
            child.send_signal(GRACEFUL[name])
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(child.poll() is None for child in children.values()):
        if time.monotonic() > deadline or len(received) > signals_before:
            break
        time.sleep(0.1)
    for child in children.values():
        # The whole group: a gunicorn master killed alone would leave its workers behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def _run_servers(
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    worker_threads: int | None,
    with_worker: bool,
    access_log: bool,
    on_ready: Callable[[], None],
) -> int:
    _port_required(host, port)
    web = _web_argv(host=host, port=port, workers=workers, threads=threads, access_log=access_log)
    others = {"worker": _worker_argv(worker_threads)} if with_worker else {}
    return _supervise(web, others, host=host, port=port, on_ready=on_ready)


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
    return f"http://{_bind(shown, port)}/"


@command(short_help="Try Lavka: load a demo company and run it.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web server processes.",
)
@click.option(
    "--scale",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Also generate this many clients (bulk, for trying a large base).",
)
@click.option("--no-serve", is_flag=True, help="Stop after loading the data.")
def demo(host: str, port: int, workers: int, scale: int, no_serve: bool) -> int:
    """Try Lavka: load a demo company and run it.

    Creates (or reuses) the database in the data directory, applies migrations,
    loads the demo company «Лавка Трейд» / Lavka Trade (running it again reuses
    what exists), then runs the web server and the background worker until Ctrl-C.
    """
    prepare()
    if not no_serve:
        system_checks()
    from django.conf import settings

    click.echo(f"Data directory: {settings.DATA_DIR}")
    run_migrations()
    from lavka.audit.context import audit_context
    from lavka.demo.data import load_demo

    counters: dict[str, Counter] = {}

    def progress(stage: str, done: int, total: int) -> None:
        counters.setdefault(stage, Counter(f"Demo {stage}"))(done, total)

    with audit_context(via="cli", command="demo"):
        result = load_demo(scale=scale, progress=progress)
    for counter in counters.values():
        counter.finish()
    created = [f"{n} {what.replace('_', ' ')}" for what, n in result["created"].items() if n]
    click.echo(
        f"Demo data: {', '.join(created)} created" if created else "Demo data: already loaded"
    )
    _demo_analytics(refresh=bool(created))
    collect_static()
    if no_serve:
        _print_logins(result)
        click.echo("Start it with: lavka demo")
        return EXIT_OK

    def ready() -> None:
        click.echo(f"\nLavka is running at {_url(host, port)}  (Ctrl-C stops it)")
        _print_logins(result)

    return _run_servers(
        host=host,
        port=port,
        workers=workers,
        threads=1,
        worker_threads=None,
        with_worker=True,
        access_log=False,
        on_ready=ready,
    )


def _demo_analytics(*, refresh: bool) -> None:
    """Compute the analytics of the demo base (as the nightly job would), so that the
    dashboard, the segments and the cards show figures on first start; again only
    when the demo data has just been created."""
    from lavka.analytics.models import ComputeRun
    from lavka.analytics.services import analytics_recompute

    if not refresh and ComputeRun.objects.filter(is_current=True).exists():
        return
    counter = Counter("Demo analytics")
    run = analytics_recompute(actor=None, progress=counter)
    counter.finish()
    click.echo(f"Analytics: {run.clients} clients scored as of {run.as_of.isoformat()}")


def _print_logins(result: dict[str, Any]) -> None:
    from lavka.identity.roles import builtin_role_name

    click.echo(f"Log in as one of these (password for all: {result['password']}):")
    for login in result["logins"]:
        role = builtin_role_name(login["role"]) or login["role"]
        click.echo(f"  {login['username']:<9} {login['name']:<18} {role:<15} {login['team']}")


@command(short_help="Run the web server and the background worker.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Web server processes [default: LAVKA_WEB_WORKERS, or one per core, at least 2 and "
    "at most 8: measured on 2 cores, more processes than cores only made each request wait "
    "longer for a core].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Threads per web server process; above 1, gunicorn runs gthread workers, for "
    "serving without a reverse proxy [default: LAVKA_WEB_THREADS, or 1].",
)
@click.option(
    "--worker-threads",
    type=click.IntRange(1, 64),
    help="Threads of the background worker [default: LAVKA_WORKER_THREADS].",
)
@click.option("--no-worker", is_flag=True, help="Run the web server only.")
def serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    worker_threads: int | None,
    no_worker: bool,
) -> int:
    """Run Lavka in production: the web server and the background worker.

    Checks the configuration and the database first, and refuses to start while
    migrations are pending. Behind a reverse proxy, set LAVKA_BEHIND_PROXY=1.
    """
    from lavka.config.env import env_int

    workers = workers or _default_web_workers()
    threads = threads or env_int("LAVKA_WEB_THREADS", 1)
    prepare()
    migrations_required()
    system_checks()
    collect_static()

    def ready() -> None:
        click.echo(
            f"Lavka is serving at {_url(host, port)} with {workers} web processes"
            f"{'' if no_worker else ' and the background worker'}"
        )

    return _run_servers(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        worker_threads=worker_threads,
        with_worker=not no_worker,
        access_log=True,
        on_ready=ready,
    )


@command(short_help="Run the background worker (Huey consumer).")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Worker threads [default: LAVKA_WORKER_THREADS, or 2 (4 with Redis)].",
)
def worker(threads: int | None) -> int:
    """Run the background worker (the Huey consumer, with periodic tasks)."""
    prepare()
    from django.conf import settings
    from django.utils.module_loading import autodiscover_modules
    from huey.consumer_options import ConsumerConfig
    from huey.contrib.djhuey import HUEY

    huey_settings = cast(dict[str, Any], settings.HUEY)
    options: dict[str, Any] = {**huey_settings.get("consumer", {}), "periodic": True}
    if threads:
        options["workers"] = threads
    autodiscover_modules("tasks")
    config = ConsumerConfig(**options)
    config.validate()
    # Huey's own log lines go through Django's LOGGING (level WARNING for "huey").
    click.echo(
        f"Background worker: {config.workers} {config.worker_type}s, queue "
        f"{'Redis' if settings.REDIS_URL else huey_settings.get('filename')}, "
        "periodic tasks on"
    )
    HUEY.create_consumer(**config.values).run()
    return EXIT_OK


@command(short_help="Create or update the database tables.")
def migrate() -> int:
    """Create or update the database tables."""
    django_setup()
    database_required()
    run_migrations()
    return EXIT_OK
