"""The `lavka` command: try, run, set up and check a Lavka installation.

Django is set up inside each command, never at import, so that `lavka --help` works
without any configuration, and a bad setting comes out as two lines on stderr
(`error: ...`, `hint: ...`) and an exit code, not as a traceback from deep inside Django.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import click

from lavka.config.env import ConfigError, redact_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

EPILOG = """\b
Exit codes:
  0    success
  1    a check failed, or the command failed while running
  2    wrong usage or configuration (the LAVKA_* environment variables)
  3    cannot connect to a service: the database or Redis
  130  interrupted (Ctrl-C)
"""

ROLE_CODES = ["administrator", "sales_manager", "sales_rep", "marketer", "service_agent", "analyst"]
STOP_TIMEOUT = 20  # seconds the web server and the worker get to finish what they are doing


class Failure(Exception):
    """Ends the command: `error: <message>` and `hint: <hint>` on stderr, then `code`."""

    def __init__(self, message: str, hint: str = "", code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = code

    def show(self) -> None:
        click.echo(f"error: {self.message}", err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)


# --- setting up --------------------------------------------------------------------------


def _django_setup() -> None:
    """Import the settings (which check the LAVKA_* variables) and set Django up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ConfigError as exc:
        raise Failure(exc.message, exc.hint, EXIT_USAGE) from None
    except ImproperlyConfigured as exc:
        raise Failure(str(exc), "check the LAVKA_* environment variables", EXIT_USAGE) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _database_label() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {redact_url(settings.DATABASE_URL)}"


def _database_problem() -> str | None:
    """None when the database answers, otherwise why it does not."""
    from django.db import Error, connection

    try:
        connection.ensure_connection()
    except Error as exc:
        return _first_line(exc)
    return None


def _database_hint() -> str:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return "check that the database file's directory exists and this user can write it"
    return (
        "check LAVKA_DATABASE_URL (host, port, user, password, database name) "
        "and that the PostgreSQL server is running"
    )


def _database_required() -> None:
    problem = _database_problem()
    if problem:
        raise Failure(
            f"cannot connect to the database ({_database_label()}): {problem}",
            _database_hint(),
            EXIT_UNREACHABLE,
        )


def _redis_problem(url: str) -> str | None:
    """None when Redis answers PING within two seconds, otherwise why it does not."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return _first_line(exc)
    return None


REDIS_HINT = (
    "check LAVKA_REDIS_URL and that Redis is running, "
    "or unset it to keep jobs in the data directory"
)


def _redis_required() -> None:
    from django.conf import settings

    if settings.REDIS_URL:
        problem = _redis_problem(settings.REDIS_URL)
        if problem:
            raise Failure(
                f"cannot connect to Redis at {redact_url(settings.REDIS_URL)}: {problem}",
                REDIS_HINT,
                EXIT_UNREACHABLE,
            )


def _migrations_state() -> tuple[list[str], list[str], int]:
    """(migrations not yet applied, Lavka apps whose models have no migrations,
    number of migrations applied)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    from django.apps import apps

    unmigrated = sorted(
        label
        for label in executor.loader.unmigrated_apps
        if apps.get_app_config(label).name.startswith("lavka.")
        and list(apps.get_app_config(label).get_models())
    )
    return pending, unmigrated, len(executor.loader.applied_migrations)


def _migrations_required() -> None:
    pending, unmigrated, _ = _migrations_state()
    if unmigrated:
        raise Failure(
            f"apps without migrations: {', '.join(unmigrated)}",
            "this copy of Lavka is incomplete; reinstall it",
            EXIT_FAILED,
        )
    if pending:
        raise Failure(
            f"the database is not up to date: {len(pending)} migrations to apply",
            "run: lavka migrate",
            EXIT_FAILED,
        )


def _prepare() -> None:
    """What every long-running command needs before it starts."""
    _django_setup()
    _database_required()
    _redis_required()


class Counter:
    """`label: done/total`, rewritten in place on a terminal, printed once elsewhere."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stdout.isatty()
        self.last = 0.0
        self.text = ""

    def __call__(self, done: int, total: int) -> None:
        self.text = f"{self.label}: {done}/{total}"
        now = time.monotonic()
        if self.live and (now - self.last > 0.1 or done == total):
            self.last = now
            click.echo(f"\r{self.text}", nl=False)

    def finish(self, suffix: str = "") -> None:
        if self.text:
            click.echo(f"\r{self.text}{suffix}" if self.live else f"{self.text}{suffix}")


def _migrate() -> int:
    """Apply pending migrations, counting them; returns how many were applied."""
    from django.core.management import call_command
    from django.core.management.commands.migrate import Command as MigrateCommand
    from django.db import Error

    pending, unmigrated, _ = _migrations_state()
    if unmigrated:
        raise Failure(
            f"apps without migrations: {', '.join(unmigrated)}",
            "this copy of Lavka is incomplete; reinstall it",
            EXIT_FAILED,
        )
    if not pending:
        click.echo("Migrations: the database is up to date.")
        return 0
    counter = Counter("Applying migrations")
    applied = 0

    class Migrate(MigrateCommand):
        def migration_progress_callback(
            self, action: str, migration: Any = None, fake: bool = False
        ) -> None:
            nonlocal applied
            if action == "apply_success":
                applied += 1
                counter(applied, len(pending))

    counter(0, len(pending))
    try:
        call_command(Migrate(), interactive=False, verbosity=0)
    except Error as exc:
        counter.finish()
        raise Failure(
            f"migration failed: {_first_line(exc)}",
            "the database is left at the last migration that succeeded; "
            "fix the cause and run: lavka migrate",
            EXIT_FAILED,
        ) from None
    counter.finish(" done")
    return applied


def _system_checks() -> None:
    from django.core import checks

    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        first = errors[0]
        raise Failure(f"{first.id}: {first.msg}", first.hint or "fix the configuration", EXIT_USAGE)


def _collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


# --- running the web server and the worker -----------------------------------------------


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _default_web_workers() -> int:
    from lavka.config.env import env_int

    return env_int("LAVKA_WEB_WORKERS", min(2 * _cores() + 1, 8))


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


# --- the commands ------------------------------------------------------------------------


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lavka", prog_name="lavka")
def cli() -> None:
    """Lavka, an open-source CRM.

    Settings come from LAVKA_* environment variables; data (the SQLite database,
    the secret key, the job queue, uploaded files) lives in LAVKA_DATA_DIR (./var).
    """


def command(**kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    return cli.command(epilog=EPILOG, **kwargs)


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
    _prepare()
    if not no_serve:
        _system_checks()
    from django.conf import settings

    click.echo(f"Data directory: {settings.DATA_DIR}")
    _migrate()
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
    _collect_static()
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
    help="Web server processes [default: LAVKA_WEB_WORKERS, or 2 x cores + 1, at most 8].",
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
    _prepare()
    _migrations_required()
    _system_checks()
    _collect_static()

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
    _prepare()
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
    _django_setup()
    _database_required()
    _migrate()
    return EXIT_OK


@command(short_help="Create a user who can log in.")
@click.argument("username")
@click.option("--email", default="", help="The user's email address.")
@click.option(
    "--role",
    type=click.Choice(ROLE_CODES),
    help="The user's role [default: administrator for the first user].",
)
@click.option("--team", "team_name", metavar="NAME", help="The user's team (it must exist).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
def createuser(
    username: str, email: str, role: str | None, team_name: str | None, password_stdin: bool
) -> int:
    """Create a user who can log in (recorded in the audit log as done by the system)."""
    _django_setup()
    _database_required()
    _migrations_required()
    from lavka.audit.context import audit_context
    from lavka.core.errors import ValidationFailed
    from lavka.identity.models import Role, Team, User
    from lavka.identity.services import user_create

    if role is None:
        if User.objects.exists():
            raise Failure(
                "choose the new user's role with --role",
                f"one of: {', '.join(ROLE_CODES)}",
                EXIT_USAGE,
            )
        role = "administrator"
    role_obj = Role.objects.filter(code=role).first()
    if role_obj is None:
        raise Failure(
            f"the role {role!r} is not in the database",
            "run: lavka migrate (it creates the built-in roles)",
            EXIT_FAILED,
        )
    team = None
    if team_name:
        # Compared in Python: SQLite ignores the case of ASCII letters only.
        wanted = team_name.strip().casefold()
        team = next((t for t in Team.objects.all() if t.name.casefold() == wanted), None)
        if team is None:
            known = ", ".join(Team.objects.values_list("name", flat=True)) or "none yet"
            raise Failure(
                f"there is no team named {team_name!r}",
                f"existing teams: {known}; create teams under Settings > Teams",
                EXIT_USAGE,
            )
    password = _read_password(from_stdin=password_stdin)
    with audit_context(via="cli", command="createuser"):
        try:
            user = user_create(
                actor=None,
                username=username,
                email=email,
                team=team,
                role=role_obj,
                password=password,
            )
        except ValidationFailed as exc:
            problems = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in exc.fields.items()
            )
            raise Failure(
                problems or str(exc.message), "correct it and run the command again", EXIT_USAGE
            ) from None
    click.echo(f"Created user {user.username} ({role_obj}{', ' + team.name if team else ''}).")
    return EXIT_OK


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise Failure(
                "no password on standard input",
                "pipe it in: printf '%s\\n' \"$PASSWORD\" | lavka createuser ...",
                EXIT_USAGE,
            )
        return password
    if not sys.stdin.isatty():
        raise Failure(
            "there is no terminal to ask for the password on",
            "pass it on standard input with --password-stdin",
            EXIT_USAGE,
        )
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@dataclass
class CheckItem:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    hint: str = ""


@command(short_help="Check the configuration and the services.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(as_json: bool) -> int:
    """Report on the configuration and the services Lavka needs, one line each.

    Exits 0 when everything is OK (or only warned about), 1 when something failed.
    """
    _django_setup()
    items = _check_items()
    failed = any(item.status == "FAIL" for item in items)
    if as_json:
        click.echo(
            json.dumps(
                {"ok": not failed, "items": [asdict(i) for i in items]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for item in items:
            click.echo(f"{item.status:<4}  {item.name:<16} {item.detail}")
            if item.hint and item.status != "OK":
                click.echo(f"{'':<6}{'':<16} hint: {item.hint}")
    return EXIT_FAILED if failed else EXIT_OK


def _check_items() -> list[CheckItem]:
    from django.conf import settings

    items = [
        CheckItem("data directory", "OK", f"{settings.DATA_DIR} (writable)"),
        _check_secret_key(settings.DATA_DIR),
    ]
    problem = _database_problem()
    if problem:
        items.append(
            CheckItem("database", "FAIL", f"{_database_label()}: {problem}", _database_hint())
        )
        items.append(CheckItem("migrations", "WARN", "not checked: no database"))
    else:
        items.append(CheckItem("database", "OK", f"{_database_label()} (reachable)"))
        pending, unmigrated, applied = _migrations_state()
        if unmigrated:
            items.append(
                CheckItem(
                    "migrations",
                    "FAIL",
                    f"apps without migrations: {', '.join(unmigrated)}",
                    "reinstall Lavka",
                )
            )
        elif pending:
            items.append(
                CheckItem("migrations", "FAIL", f"{len(pending)} to apply", "run: lavka migrate")
            )
        else:
            items.append(CheckItem("migrations", "OK", f"all {applied} applied"))
    items.extend(_check_queue())
    items.append(_check_email())
    items.append(
        CheckItem(
            "debug",
            "WARN",
            "on: error pages show the code and settings",
            "unset LAVKA_DEBUG outside development",
        )
        if settings.DEBUG
        else CheckItem("debug", "OK", "off")
    )
    hosts = ", ".join(settings.ALLOWED_HOSTS) or "(none)"
    items.append(
        CheckItem(
            "allowed hosts",
            "WARN",
            f"{hosts}: any Host header is accepted",
            "list the server's names in LAVKA_ALLOWED_HOSTS",
        )
        if "*" in settings.ALLOWED_HOSTS
        else CheckItem("allowed hosts", "OK", hosts)
    )
    return items


def _check_secret_key(data_dir: Any) -> CheckItem:
    if os.environ.get("LAVKA_SECRET_KEY", "").strip():
        return CheckItem("secret key", "OK", "from LAVKA_SECRET_KEY")
    key_file = data_dir / "secret_key"
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        return CheckItem(
            "secret key",
            "FAIL",
            f"{key_file} is readable by others ({mode:04o})",
            f"chmod 600 {key_file}",
        )
    return CheckItem("secret key", "OK", f"{key_file} (mode {mode:04o})")


def _check_queue() -> list[CheckItem]:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    items = []
    if settings.REDIS_URL:
        problem = _redis_problem(settings.REDIS_URL)
        items.append(
            CheckItem("redis", "FAIL", f"{redact_url(settings.REDIS_URL)}: {problem}", REDIS_HINT)
            if problem
            else CheckItem("redis", "OK", f"{redact_url(settings.REDIS_URL)} (reachable)")
        )
        if problem:
            items.append(CheckItem("job queue", "FAIL", "Redis: not reachable", REDIS_HINT))
            return items
        where = f"Redis {redact_url(settings.REDIS_URL)}"
    else:
        items.append(CheckItem("redis", "OK", "not configured: jobs use SQLite in the data dir"))
        where = f"SQLite {settings.HUEY['filename']}"
    try:
        waiting = HUEY.pending_count()
    except Exception as exc:  # any storage error is the answer to report
        items.append(
            CheckItem(
                "job queue",
                "FAIL",
                f"{where}: {_first_line(exc)}",
                "check that the data directory (or Redis) is writable",
            )
        )
    else:
        items.append(CheckItem("job queue", "OK", f"{where}, {waiting} waiting"))
    return items


def _check_email() -> CheckItem:
    from django.conf import settings

    if not settings.EMAIL_HOST:
        return CheckItem(
            "email",
            "WARN",
            f"not configured: letters are saved as files in {settings.EMAIL_FILE_PATH}",
            "set LAVKA_EMAIL_HOST (and LAVKA_EMAIL_PORT) to send them",
        )
    address = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        with socket.create_connection((settings.EMAIL_HOST, settings.EMAIL_PORT), timeout=3):
            pass
    except OSError as exc:
        return CheckItem(
            "email",
            "FAIL",
            f"SMTP {address}: {exc.strerror or exc}",
            "check LAVKA_EMAIL_HOST and LAVKA_EMAIL_PORT, and the firewall",
        )
    return CheckItem("email", "OK", f"SMTP {address} (reachable)")


# --- import and export -------------------------------------------------------------------


def _acting_user(username: str | None) -> Any:
    """The user an import or export acts as: --as, else the only administrator."""
    from lavka.identity.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise Failure(
                f"there is no active user named {username!r}",
                "give an existing user with --as",
                EXIT_USAGE,
            )
        return user
    admins = list(User.objects.filter(is_active=True, role__code="administrator")[:2])
    if len(admins) != 1:
        raise Failure("say whom the command acts as", "add --as USERNAME", EXIT_USAGE)
    return admins[0]


@cli.group(name="import", epilog=EPILOG, short_help="Import clients from a file.")
def import_group() -> None:
    """Import records from CSV, XLSX or vCard files."""


@import_group.command(name="clients", epilog=EPILOG)
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option(
    "--mapping",
    "mapping_ref",
    metavar="NAME_OR_JSON_FILE",
    help="A saved mapping's name, or a JSON file {column header: field}.",
)
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--as", "as_user", metavar="USERNAME", help="The user the import acts as.")
@click.option(
    "--resume",
    "resume_id",
    type=int,
    metavar="RUN_ID",
    help="Continue a failed import after its last committed row.",
)
def import_clients(
    file: str | None,
    mapping_ref: str | None,
    dry_run: bool,
    as_json: bool,
    as_user: str | None,
    resume_id: int | None,
) -> int:
    """Import clients from FILE: create new ones, update those found by external id,
    email or INN. Prints the counts and where the row-error report is. Exits 0 when the
    import ran (even with rejected rows), 1 when the file cannot be read."""
    from pathlib import Path

    if (file is None) == (resume_id is None):
        raise Failure(
            "give either FILE or --resume RUN_ID", "see: lavka import clients --help", EXIT_USAGE
        )
    _django_setup()
    _database_required()
    _migrations_required()
    from django.conf import settings

    from lavka.audit.context import audit_context
    from lavka.core.errors import DomainError
    from lavka.imports.models import ImportRun
    from lavka.imports.readers import FileProblem
    from lavka.imports.selectors import saved_mapping_find
    from lavka.imports.services import (
        import_can_resume,
        import_run_in_process,
        import_set_mapping,
        import_upload,
        mapping_from_saved,
    )

    actor = _acting_user(as_user)
    counter = Counter("rows")
    with audit_context(via="cli", command="import clients"):
        try:
            if resume_id is not None:
                run = ImportRun.objects.filter(pk=resume_id).first()
                if run is None or not import_can_resume(run):
                    raise Failure(
                        f"import run {resume_id} cannot be resumed",
                        "only a failed import can be resumed",
                        EXIT_USAGE,
                    )
            else:
                assert file is not None
                path = Path(file)
                if not path.is_file():
                    raise Failure(f"cannot read {file}", "check the path", EXIT_FAILED)
                run = import_upload(actor=actor, name=path.name, source=path, max_bytes=None)
                header = list(run.options.get("header", []))
                if mapping_ref:
                    ref = Path(mapping_ref)
                    if ref.is_file():
                        try:
                            by_header = json.loads(ref.read_text(encoding="utf-8"))
                        except (ValueError, UnicodeDecodeError) as exc:
                            raise Failure(
                                f"{mapping_ref} is not JSON: {exc}",
                                'write it as {"column header": "field"}',
                                EXIT_USAGE,
                            ) from None
                        mapping = mapping_from_saved(by_header, header)
                    else:
                        saved = saved_mapping_find(viewer=actor, name=mapping_ref)
                        if saved is None:
                            raise Failure(
                                f"there is no saved mapping named {mapping_ref!r}",
                                "give a mapping's name or a JSON file",
                                EXIT_USAGE,
                            )
                        mapping = mapping_from_saved(saved, header)
                    run = import_set_mapping(actor=actor, run=run, mapping=mapping)
            result = import_run_in_process(
                actor=actor,
                run=run,
                dry_run=dry_run,
                progress=lambda done, total: counter(done, total or 0),
                workers=max(0, min(4, (os.cpu_count() or 1)))
                if not sys.platform.startswith("win")
                else 0,
            )
        except FileProblem as exc:
            raise Failure(
                exc.message, "fix the file and run the command again", EXIT_FAILED
            ) from None
        except DomainError as exc:
            fields = getattr(exc, "fields", {}) or {}
            detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in fields.items())
            raise Failure(
                detail or str(exc), "see: lavka import clients --help", EXIT_USAGE
            ) from None
    counter.finish()
    counts = result["counts"]
    report = str(Path(settings.DATA_DIR) / result["error_report"])
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": run.pk,
                    "dry_run": dry_run,
                    **{
                        k: counts.get(k, 0)
                        for k in ("created", "updated", "unchanged", "duplicates", "rejected")
                    },
                    "error_report": report,
                }
            )
        )
    else:
        label = "Checked (dry run, nothing written)" if dry_run else "Imported"
        click.echo(f"{label} {run.original_name} (run {run.pk}):")
        for key in ("created", "updated", "unchanged", "duplicates", "rejected"):
            click.echo(f"  {key:<11}{counts.get(key, 0)}")
        click.echo(f"Row errors: {report}")
    return EXIT_OK


@cli.group(name="export", epilog=EPILOG, short_help="Export clients to a file.")
def export_group() -> None:
    """Export records to CSV or XLSX."""


@export_group.command(name="clients", epilog=EPILOG)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The file to write."
)
@click.option("--as", "as_user", metavar="USERNAME", help="Export what this user can see.")
@click.option("--query", default="", help="Only clients matching this search.")
@click.option(
    "--round-trip",
    is_flag=True,
    help="Write values raw (no formula neutralising), for re-import only.",
)
def export_clients(fmt: str, out: str, as_user: str | None, query: str, round_trip: bool) -> int:
    """Export the clients a user can see to CSV or XLSX. Cells that a spreadsheet would
    run as formulas are neutralised with a leading apostrophe, unless --round-trip."""
    from pathlib import Path

    _django_setup()
    _database_required()
    _migrations_required()
    from lavka.clients.exports import clients_write

    actor = _acting_user(as_user)
    counter = Counter("clients")
    written = clients_write(
        viewer=actor,
        path=Path(out),
        fmt=fmt,
        filters={"q": query},
        round_trip=round_trip,
        progress=counter,
    )
    counter.finish()
    click.echo(f"Exported {written} clients to {out}.")
    if round_trip:
        click.echo(
            "Round-trip export: values are raw, for re-import into Lavka only; "
            "do not open it in a spreadsheet."
        )
    return EXIT_OK


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
    short_help="Run a Django management command.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `lavka manage shell`."""
    _django_setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lavka manage", *args])


def main(argv: list[str] | None = None) -> None:
    """The console entry point: runs a command and turns its outcome into an exit code."""
    try:
        code = cli.main(args=argv, prog_name="lavka", standalone_mode=False)
    except Failure as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ConfigError as exc:
        Failure(exc.message, exc.hint, EXIT_USAGE).show()
        sys.exit(EXIT_USAGE)
    except Exception as exc:
        db = sys.modules.get("django.db")
        if db is None or not isinstance(exc, db.OperationalError):
            raise
        # The database went away after the command had connected to it.
        Failure(f"database error: {_first_line(exc)}", _database_hint(), EXIT_UNREACHABLE).show()
        sys.exit(EXIT_UNREACHABLE)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
